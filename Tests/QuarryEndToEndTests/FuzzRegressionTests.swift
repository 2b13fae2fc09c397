import Foundation
import Testing

/// Every input a fuzz target ever crashed on (Fuzz/regressions/<target>/), and
/// the seed corpora, replayed through the same code path by the ordinary
/// (non-libFuzzer) build of `quarry-fuzz`: each must run through without a trap.
@Suite struct FuzzRegressionTests {
    static let fuzzDirectory = repositoryRoot + "/Fuzz"

    @Test(arguments: ["text", "json", "jsonl", "protocol", "query", "reply"])
    func crashInputsAndSeedsRunThroughTheTarget(target: String) throws {
        var inputs: [String] = []
        for kind in ["regressions", "seeds"] {
            let directory = Self.fuzzDirectory + "/" + kind + "/" + target
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            inputs += names.filter { !$0.hasPrefix(".") }.map { directory + "/" + $0 }
        }
        #expect(!inputs.isEmpty, "no seeds for \(target) in \(Self.fuzzDirectory)")
        let replay = try RunningProcess(executable: try Binaries.path("quarry-fuzz"), ["--corpus", sampleCorpus, target] + inputs.sorted())
        let result = replay.wait()
        // On a trap the last "target: file" line on stderr names the input.
        let last = result.stderr.split(separator: "\n").last { $0.hasPrefix("\(target): ") } ?? ""
        #expect(result.status == 0, "\(target) crashed, last input \(last):\n\(result.stderr.suffix(3000))")
        #expect(result.output.contains("\(target): \(inputs.count) inputs, no crash"))
    }
}
