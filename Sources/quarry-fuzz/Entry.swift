import Foundation

/// libFuzzer's entry point. With `-sanitize=fuzzer` libFuzzer brings `main`
/// and calls this for every input; QUARRY_FUZZ_TARGET names the target.
@_cdecl("LLVMFuzzerTestOneInput")
public func quarryFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget.run(bytes)
    return 0
}

/// The target named by QUARRY_FUZZ_TARGET, read once.
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["QUARRY_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        QueryFuzzer.die("set QUARRY_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")), not '\(name)'")
    }
    return target
}()

#if FUZZING
/// libFuzzer's driver, from the `-sanitize=fuzzer` runtime (`FuzzerDriver.cpp`):
/// `int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *, size_t))`.
@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable with `main` defined as `<module>_main` (so that
/// tests can import executable modules), which leaves libFuzzer's own `main`
/// unused: this is that entry point, handing the command line to libFuzzer.
@_cdecl("quarry_fuzz_main")
public func quarryFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return llvmFuzzerRunDriver(&count, &arguments) { data, size in quarryFuzzTestOneInput(data, size) }
}
#else
/// Without libFuzzer (an ordinary build): `quarry-fuzz TARGET FILE|DIR...`
/// runs each file through the target once, as the regression tests do. An
/// input that crashes a target crashes this process, naming the file first.
@main
struct ReplayMain {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count >= 2, arguments[0] == "--corpus" {
            QueryFuzzer.corpusOverride = arguments[1]
            arguments.removeFirst(2)
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
            let targets = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("""
                usage: quarry-fuzz [--corpus DIR] \(targets) FILE|DIRECTORY...
                Runs each input through the fuzz target once (a libFuzzer build, made with -DFUZZING, is the fuzzer itself).
                The query target indexes DIR (default: $QUARRY_FUZZ_CORPUS, else ./Corpus) first.

                """.utf8))
            exit(2)
        }
        var files: [String] = []
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                QueryFuzzer.die("no file or directory '\(path)'")
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { QueryFuzzer.die("cannot read '\(file)'") }
            FileHandle.standardError.write(Data("\(name): \(file)\n".utf8))
            target.run(Array(data))
        }
        print("\(name): \(files.count) inputs, no crash")
    }
}
#endif
