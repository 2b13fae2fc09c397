import Foundation
@testable import QuarryCore
import Testing

/// The near-duplicate band store on real files: what it answers, through its
/// merges, a crash while writing and a damaged file.
@Suite struct BandStoreTests {
    /// Batches of entries over few bands, so bands span runs, with repeats.
    static func batches(_ count: Int, size: Int, seed: UInt64) -> [[BandStore.Entry]] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            (0..<size).map { _ in BandStore.Entry(band: random.next() % 5_000, text: random.next() % 2_000) }
        }
    }

    /// What a store holding `batches` must answer for each band.
    static func expected(_ batches: [[BandStore.Entry]]) -> [UInt64: [UInt64]] {
        var texts: [UInt64: Set<UInt64>] = [:]
        for entry in batches.joined() { texts[entry.band, default: []].insert(entry.text) }
        return texts.mapValues { $0.sorted() }
    }

    static func check(_ reader: BandReader, _ expected: [UInt64: [UInt64]]) throws {
        for band in UInt64(0)..<5_001 {
            #expect(try reader.texts(inBand: band) == expected[band] ?? [], "band \(band)")
        }
    }

    /// A store at `directory/bands` holding one run of 1,000 entries.
    static func storeWithOneRun(in directory: TemporaryDirectory, seed: UInt64) throws -> (path: String, batches: [[BandStore.Entry]]) {
        let path = directory.path + "/bands"
        let batches = Self.batches(1, size: 1_000, seed: seed)
        try BandStore(directory: path).add(batches[0])
        return (path, batches)
    }

    /// What a process killed before the rename leaves: a run under its temporary name.
    static func unfinishedRun(in path: String) throws -> String {
        let unfinished = path + "/.tmp-run-0000000000000001-000001.qbr"
        try Data(repeating: 0xAB, count: 1_000).write(to: URL(fileURLWithPath: unfinished))
        return unfinished
    }

    @Test func eachBandListsItsTextsOnceAcrossRunsAndMerges() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = BandStore(directory: directory.path + "/bands")
        // Ten runs of 30,000 entries, some pairs in several: the fourth and the
        // eighth each merge four, so two merged runs and two new ones are left.
        let batches = Self.batches(10, size: 30_000, seed: 7)
        for batch in batches { try store.add(batch) }
        #expect(try store.runCount == 4)
        try Self.check(try store.reader(), Self.expected(batches))

        try store.mergeAll()
        #expect(try store.runCount == 1)
        try Self.check(try store.reader(), Self.expected(batches))
        // Another process (the next run) finds the same in the files.
        try Self.check(try BandStore(directory: directory.path + "/bands").reader(), Self.expected(batches))
    }

    @Test func aReaderGoesOnReadingRunsThatAMergeRemoved() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = BandStore(directory: directory.path + "/bands")
        let batches = Self.batches(4, size: 20_000, seed: 11)
        for batch in batches.prefix(3) { try store.add(batch) }
        let before = try store.reader()
        try store.add(batches[3])
        #expect(try store.runCount == 1)
        try Self.check(before, Self.expected(Array(batches.prefix(3))))
        try Self.check(try store.reader(), Self.expected(batches))
    }

    @Test func aRunKilledWhileWritingLeavesNoPartOfItInTheStore() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (path, batches) = try Self.storeWithOneRun(in: directory, seed: 3)
        let partial = try Self.unfinishedRun(in: path)

        let store = BandStore(directory: path)
        try Self.check(try store.reader(), Self.expected(batches))
        #expect(!FileManager.default.fileExists(atPath: partial))
    }

    /// What `quarry check` opens, perhaps while `quarry index` writes: a
    /// writer's unfinished run stays, and a missing store is not created.
    @Test func aReadOnlyStoreLeavesTheDirectoryAsItIs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (path, batches) = try Self.storeWithOneRun(in: directory, seed: 9)
        let unfinished = try Self.unfinishedRun(in: path)

        try Self.check(try BandStore(directory: path, readOnly: true).reader(), Self.expected(batches))
        #expect(FileManager.default.fileExists(atPath: unfinished))
        let missing = directory.path + "/none"
        #expect(try BandStore(directory: missing, readOnly: true).reader().count == 0)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func aDamagedRunIsNamedAndNotRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.storeWithOneRun(in: directory, seed: 5).path
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: path).first { $0.hasSuffix(".qbr") })
        let handle = try #require(FileHandle(forUpdatingAtPath: path + "/" + run))
        try handle.truncate(atOffset: 5_000)
        try handle.close()

        let error = try #require(throws: QuarryError.self) { try BandStore(directory: path).reader() }
        #expect(error.code == .indexCorrupt)
        #expect(error.message.contains(path + "/" + run))
        #expect(error.message.contains("rebuild"))
    }
}
