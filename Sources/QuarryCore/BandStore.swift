#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Which texts hold each MinHash band (docs/DUPLICATES.md): the candidates the
/// near-duplicate recount compares, kept beside the Xapian database instead of
/// as band terms in it.
///
/// Why not terms: a comment has 32 bands, nearly all held by no other comment,
/// and Xapian's writer pays for each new term in its in-memory inverter and
/// again in a B-tree insert at every commit. At 100,000 articles near-duplicate
/// detection with band terms took 48 % of the indexing run's CPU and 54 of its
/// 77 GB of writes (docs/PERFORMANCE.md, seventh session). Here a band costs 16
/// bytes appended to a batch, sorted once.
///
/// On disk, a directory of immutable runs, each a sorted array of (band, text)
/// pairs with the band key of every 256th pair as an index (`BandRun`). A batch
/// of comments becomes one run; four runs of one size merge into one run of the
/// next (a log-structured merge), so lookups read a few runs, and a large run
/// merges them all before its recount.
///
/// Crash safety: a run is written whole under a temporary name, synced, then
/// renamed, before the Xapian commit of the documents it describes. So the
/// bands of every committed comment are in a run. A run may also name texts
/// that were never committed (a killed run) or are gone since (a deleted file):
/// the recount reads every candidate from the index and passes over one no
/// comment holds. A merge's inputs are removed after its output is in place, so
/// a crash between leaves pairs twice, which lookups fold.
///
/// One instance is shared by the writers of all the shards of an index (entries
/// name texts, not documents, so they do not depend on the shard or survive a
/// merge of shards); writing takes a lock. Readers (`reader()`) are snapshots,
/// safe on any number of threads.
final class BandStore: @unchecked Sendable {
    // @unchecked: `runs` and `sequence` are only touched while `lock` is held.

    /// One band of one text: `NearDuplicates.bandKeys` and a fingerprint's value.
    struct Entry: Comparable, Sendable {
        var band: UInt64
        var text: UInt64

        static func < (a: Entry, b: Entry) -> Bool { (a.band, a.text) < (b.band, b.text) }
    }

    /// The store's directory inside an index (a plain index's database
    /// directory, or a sharded index's directory, beside its stub).
    static let directoryName = "quarry-bands"

    let directory: String
    /// For `quarry check`, which may run beside a writer: it neither creates
    /// the directory nor removes a writer's unfinished run.
    let readOnly: Bool
    private let lock = NSLock()
    /// Nil until first needed: an index without near-duplicate detection never
    /// opens its store, and opening creates the directory.
    private var runs: [BandRun]?
    private var sequence = 0

    init(directory: String, readOnly: Bool = false) {
        self.directory = directory
        self.readOnly = readOnly
    }

    /// Writes `entries` (any order, repeats allowed) as a new run, then merges
    /// any size class that now has `fanIn` runs.
    func add(_ entries: [Entry]) throws(QuarryError) {
        guard !entries.isEmpty, !readOnly else { return }
        var sorted = entries.sorted()
        sorted.removeConsecutiveDuplicates()
        try locked { () throws(QuarryError) in
            var current = try openRuns()
            current.append(try writeRun(count: sorted.count) { (write) throws(QuarryError) in try write(sorted[...]) })
            while let full = Dictionary(grouping: current, by: \.level).values.first(where: { $0.count >= Self.fanIn }) {
                let merged = try merge(full)
                current.removeAll { run in full.contains { $0 === run } }
                current.append(merged)
            }
            runs = current
        }
    }

    /// Merges every run into one: a large recount then reads one run a band.
    func mergeAll() throws(QuarryError) {
        try locked { () throws(QuarryError) in
            let current = try openRuns()
            guard current.count > 1, !readOnly else { return }
            runs = [try merge(current)]
        }
    }

    /// Replaces the whole store with the one `build` writes into a fresh store
    /// beside it, then returns what `build` returned. Until the fresh store is
    /// renamed into place the old one stands whole; a crash between the two
    /// renames leaves no store, which the next run rebuilds (`Indexer`).
    func rebuild<T>(_ build: (BandStore) throws(QuarryError) -> T) throws(QuarryError) -> T {
        try locked { () throws(QuarryError) -> T in
            guard !readOnly else { throw QuarryError(.io, "the band store '\(directory)' is open read-only") }
            removeLeftovers()
            let fresh = directory + Self.rebuildingSuffix, old = directory + Self.oldSuffix
            let result = try build(BandStore(directory: fresh))
            let hadStore = FileManager.default.fileExists(atPath: directory)
            guard !hadStore || rename(directory, old) == 0, rename(fresh, directory) == 0 else {
                throw Self.error(errno, writing: directory)
            }
            try Self.syncDirectory((directory as NSString).deletingLastPathComponent)
            try? FileManager.default.removeItem(atPath: old)
            runs = nil
            return result
        }
    }

    /// Removes what a rebuild killed part-way left beside the store.
    func removeLeftovers() {
        guard !readOnly else { return }
        for suffix in [Self.rebuildingSuffix, Self.oldSuffix] { try? FileManager.default.removeItem(atPath: directory + suffix) }
    }

    /// What a damaged run's error tells the user to do.
    static let rebuildAdvice = "the next 'quarry index' run rebuilds the band store from the index"

    private static let rebuildingSuffix = ".rebuilding"
    private static let oldSuffix = ".old"

    /// What is written so far, for reading on any thread.
    func reader() throws(QuarryError) -> BandReader {
        try locked { () throws(QuarryError) in BandReader(runs: try openRuns()) }
    }

    /// How many runs there are (a merge's inputs are gone once it returns).
    var runCount: Int {
        get throws(QuarryError) { try locked { () throws(QuarryError) in try openRuns().count } }
    }

    /// Runs of one size class merged together; 4 keeps lookups at a few runs
    /// while each pair is rewritten about log4(runs) times.
    static let fanIn = 4

    private func locked<T>(_ body: () throws(QuarryError) -> T) throws(QuarryError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: files (under `lock`)

    private func openRuns() throws(QuarryError) -> [BandRun] {
        if let runs { return runs }
        var opened: [BandRun] = []
        do {
            if readOnly, !FileManager.default.fileExists(atPath: directory) {
                runs = []
                return []
            }
            if !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                // The new directory's entry must outlive a power loss as its runs do.
                try Self.syncDirectory((directory as NSString).deletingLastPathComponent)
            }
            for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                if name.hasPrefix(Self.temporaryPrefix) {
                    guard !readOnly else { continue }
                    // Left by a run killed while writing: never renamed, so never part of the store.
                    try? FileManager.default.removeItem(atPath: directory + "/" + name)
                } else if name.hasSuffix(Self.runSuffix) {
                    opened.append(try BandRun(path: directory + "/" + name))
                }
            }
        } catch let error as QuarryError {
            throw error
        } catch {
            throw QuarryError(.io, "cannot open the near-duplicate band store '\(directory)': \(error.localizedDescription)")
        }
        runs = opened
        return opened
    }

    private static let temporaryPrefix = ".tmp-"
    private static let runSuffix = ".qbr"

    /// Streams `count` sorted, distinct entries from `produce` into a new run
    /// file, made durable before it gets its name.
    private func writeRun(count: Int, _ produce: (_ write: (ArraySlice<Entry>) throws(QuarryError) -> Void) throws(QuarryError) -> Void) throws(QuarryError) -> BandRun {
        sequence += 1
        let name = String(format: "run-%016llx-%06x", UInt64(Date().timeIntervalSince1970 * 1e6), sequence) + Self.runSuffix
        let path = directory + "/" + name
        let temporary = directory + "/" + Self.temporaryPrefix + name
        let file = try RunFileWriter(path: temporary, count: count)
        do {
            try produce { entries throws(QuarryError) in try file.append(entries) }
            try file.finish()
        } catch {
            file.abandon()
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = Self.error(errno, writing: path)
            unlink(temporary)
            throw error
        }
        try syncDirectory()
        return try BandRun(path: path)
    }

    /// One run holding every distinct entry of `inputs`, which are then removed.
    private func merge(_ inputs: [BandRun]) throws(QuarryError) -> BandRun {
        // Repeats across the inputs (a text indexed again, a merge redone after a
        // crash) are dropped as they meet, so the count is an upper bound:
        // the file's header is written last.
        let total = inputs.reduce(0) { $0 + $1.count }
        let merged = try writeRun(count: total) { write throws(QuarryError) in
            var buffer: [Entry] = []
            buffer.reserveCapacity(Self.mergeBuffer)
            try BandReader(runs: inputs).forEachEntry { (entry) throws(QuarryError) in
                buffer.append(entry)
                if buffer.count == Self.mergeBuffer {
                    try write(buffer[...])
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try write(buffer[...])
        }
        for run in inputs { unlink(run.path) }
        try syncDirectory()
        return merged
    }

    private static let mergeBuffer = 1 << 16

    private func syncDirectory() throws(QuarryError) { try Self.syncDirectory(directory) }

    private static func syncDirectory(_ path: String) throws(QuarryError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw error(errno, writing: path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw error(errno, writing: path) }
    }

    static func error(_ code: Int32, writing path: String) -> QuarryError {
        if code == ENOSPC { return .noSpace(onDeviceHolding: path) }
        return QuarryError(.io, "cannot write '\(path)': \(String(cString: strerror(code)))")
    }
}

/// The runs of a `BandStore` at one moment. A run a later merge removes stays
/// readable through the descriptor its `BandRun` holds.
struct BandReader: Sendable {
    let runs: [BandRun]

    /// Entries in all the runs (a pair in two runs counts twice).
    var count: Int { runs.reduce(0) { $0 + $1.count } }

    /// Every entry of every run once, in order: a merge of the runs.
    func forEachEntry(_ body: (BandStore.Entry) throws(QuarryError) -> Void) throws(QuarryError) {
        var cursors = try runs.map { (run) throws(QuarryError) in try RunCursor(run) }
        var last: BandStore.Entry?
        while true {
            var least: Int?
            for index in cursors.indices {
                guard let entry = cursors[index].current else { continue }
                if let chosen = least, let best = cursors[chosen].current, !(entry < best) { continue }
                least = index
            }
            guard let chosen = least, let entry = cursors[chosen].current else { return }
            try cursors[chosen].advance()
            if entry == last { continue }
            last = entry
            try body(entry)
        }
    }

    /// Every band held by two texts or more, with its texts, in band order:
    /// what a first run's recount must look at (`IndexWriter.finishCoordination`).
    func forEachSharedBand(_ body: (_ band: UInt64, _ texts: [UInt64]) throws(QuarryError) -> Void) throws(QuarryError) {
        var band: UInt64?
        var texts: [UInt64] = []
        try forEachEntry { (entry) throws(QuarryError) in
            if entry.band != band {
                if let band, texts.count > 1 { try body(band, texts) }
                band = entry.band
                texts.removeAll(keepingCapacity: true)
            }
            texts.append(entry.text)
        }
        if let band, texts.count > 1 { try body(band, texts) }
    }

    /// The texts holding `band`, each once, in increasing order.
    func texts(inBand band: UInt64) throws(QuarryError) -> [UInt64] {
        var texts: [UInt64] = []
        for run in runs { try run.texts(inBand: band, into: &texts) }
        if runs.count > 1 {
            texts.sort()
            texts.removeConsecutiveDuplicates()
        }
        return texts
    }
}

/// One immutable run file:
///
///     header   "QRYBAND1", entry count, entries per index page (UInt64 LE
///              each), zeros to 4 KiB so that pages of entries are pages of the file
///     entries  count × (band, text), UInt64 LE each, sorted, distinct
///     index    the band of every page's first entry, one UInt64 LE a page
///
/// The index (8 bytes a page of 256 entries, 1.4 MB for 1.4 million comments)
/// is held in memory; a lookup reads the one or two pages its band is on.
final class BandRun: Sendable {
    let path: String
    let count: Int
    private let descriptor: Int32
    private let pageFirstBands: [UInt64]

    static let magic: UInt64 = 0x3144_4E41_4259_5251 // "QRYBAND1" read little-endian
    static let headerBytes = 4096
    static let pageEntries = 256

    /// The size class `BandStore` merges by: runs of up to 65,536 entries are
    /// class 0, and each class is four times the one before.
    var level: Int {
        var level = 0
        var bound = 1 << 16
        while count > bound {
            level += 1
            bound *= 4
        }
        return level
    }

    init(path: String) throws(QuarryError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw QuarryError(.io, "cannot open the band store file '\(path)': \(String(cString: strerror(errno)))")
        }
        func damaged(_ reason: String) -> QuarryError {
            close(descriptor)
            return QuarryError(.indexCorrupt, "the band store file '\(path)' is damaged (\(reason)); \(BandStore.rebuildAdvice)")
        }
        var header = [UInt64](repeating: 0, count: 3)
        var info = stat()
        guard fstat(descriptor, &info) == 0,
              header.withUnsafeMutableBytes({ pread(descriptor, $0.baseAddress, 24, 0) }) == 24
        else { throw damaged("its header cannot be read") }
        guard UInt64(littleEndian: header[0]) == Self.magic, UInt64(littleEndian: header[2]) == UInt64(Self.pageEntries) else {
            throw damaged("not a band run")
        }
        let count = Int(UInt64(littleEndian: header[1]))
        let pages = (count + Self.pageEntries - 1) / Self.pageEntries
        guard count >= 0, Int(info.st_size) == Self.headerBytes + 16 * count + 8 * pages else {
            throw damaged("\(info.st_size) bytes, not the \(Self.headerBytes + 16 * count + 8 * pages) its \(count) entries take")
        }
        var index = [UInt64](repeating: 0, count: pages)
        let indexBytes = 8 * pages
        guard index.withUnsafeMutableBytes({ pread(descriptor, $0.baseAddress, indexBytes, off_t(Self.headerBytes + 16 * count)) }) == indexBytes else {
            throw damaged("its index cannot be read")
        }
        self.count = count
        self.descriptor = descriptor
        pageFirstBands = index.map { UInt64(littleEndian: $0) }
    }

    deinit { close(descriptor) }

    /// Appends the texts holding `band` to `texts`.
    func texts(inBand band: UInt64, into texts: inout [UInt64]) throws(QuarryError) {
        // The first page whose first band is not below `band`; the band's
        // entries may begin on the page before it.
        var low = 0, high = pageFirstBands.count
        while low < high {
            let middle = (low + high) / 2
            if pageFirstBands[middle] < band { low = middle + 1 } else { high = middle }
        }
        var entry = max(0, low - 1) * Self.pageEntries
        // A page at a time: most bands are held by one text, so one 4 KiB read.
        let chunk = Self.pageEntries
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * chunk) { (buffer) throws(QuarryError) in
            while entry < count {
                let entries = min(chunk, count - entry)
                try read(entry, entries, into: buffer)
                for index in 0..<entries {
                    let found = UInt64(littleEndian: buffer[2 * index])
                    if found < band { continue }
                    if found > band { return }
                    texts.append(UInt64(littleEndian: buffer[2 * index + 1]))
                }
                entry += entries
            }
        }
    }

    /// Reads `entries` entries from `first` on into `buffer` (two words each).
    fileprivate func read(_ first: Int, _ entries: Int, into buffer: UnsafeMutableBufferPointer<UInt64>) throws(QuarryError) {
        let read = pread(descriptor, buffer.baseAddress, 16 * entries, off_t(Self.headerBytes + 16 * first))
        guard read == 16 * entries else {
            throw QuarryError(.io, "cannot read the band store file '\(path)': \(read < 0 ? String(cString: strerror(errno)) : "it is shorter than its header says")")
        }
    }
}

/// Walks a run's entries in order, a chunk at a time, for a merge.
private struct RunCursor {
    let run: BandRun
    private var buffer: [UInt64] = []
    private var position = 0
    private var next = 0
    private(set) var current: BandStore.Entry?

    init(_ run: BandRun) throws(QuarryError) {
        self.run = run
        try advance()
    }

    mutating func advance() throws(QuarryError) {
        if position * 2 >= buffer.count {
            let entries = min(Self.chunk, run.count - next)
            guard entries > 0 else {
                current = nil
                return
            }
            buffer = [UInt64](repeating: 0, count: 2 * entries)
            try buffer.withUnsafeMutableBufferPointer { (pointer) throws(QuarryError) in try run.read(next, entries, into: pointer) }
            next += entries
            position = 0
        }
        current = BandStore.Entry(band: UInt64(littleEndian: buffer[2 * position]), text: UInt64(littleEndian: buffer[2 * position + 1]))
        position += 1
    }

    private static let chunk = 1 << 16
}

/// Writes a run file: entries streamed in, the index and the true count at the end.
private final class RunFileWriter {
    let path: String
    private let descriptor: Int32
    private var written = 0
    private var pageFirstBands: [UInt64] = []
    private var buffer: [UInt64] = []

    init(path: String, count: Int) throws(QuarryError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BandStore.error(errno, writing: path) }
        pageFirstBands.reserveCapacity((count + BandRun.pageEntries - 1) / BandRun.pageEntries)
        buffer.reserveCapacity(2 * Self.bufferEntries)
        do {
            // The header's count is written by `finish`, once known.
            try flush([BandRun.magic.littleEndian, 0, UInt64(BandRun.pageEntries).littleEndian]
                      + [UInt64](repeating: 0, count: BandRun.headerBytes / 8 - 3))
        } catch {
            abandon()
            throw error
        }
    }

    private static let bufferEntries = 1 << 16

    func append(_ entries: ArraySlice<BandStore.Entry>) throws(QuarryError) {
        for entry in entries {
            if written % BandRun.pageEntries == 0 { pageFirstBands.append(entry.band) }
            buffer.append(entry.band.littleEndian)
            buffer.append(entry.text.littleEndian)
            written += 1
            if buffer.count >= 2 * Self.bufferEntries {
                try flush(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Writes what is buffered, the index and the count, and syncs the file.
    func finish() throws(QuarryError) {
        try flush(buffer)
        try flush(pageFirstBands.map(\.littleEndian))
        var count = UInt64(written).littleEndian
        guard pwrite(descriptor, &count, 8, 8) == 8, fsync(descriptor) == 0 else {
            throw BandStore.error(errno, writing: path)
        }
        close(descriptor)
    }

    /// Closes and removes the unfinished file.
    func abandon() {
        close(descriptor)
        unlink(path)
    }

    private func flush(_ words: [UInt64]) throws(QuarryError) {
        let failure: Int32? = words.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return nil }
            var offset = 0
            while offset < bytes.count {
                let wrote = write(descriptor, base + offset, bytes.count - offset)
                guard wrote > 0 else { return wrote < 0 ? errno : EIO }
                offset += wrote
            }
            return nil
        }
        if let failure { throw BandStore.error(failure, writing: path) }
    }
}

extension Array where Element: Equatable {
    /// Keeps the first of each run of equal neighbours (a sorted array's repeats).
    mutating func removeConsecutiveDuplicates() {
        guard count > 1 else { return }
        var kept = 1
        for index in 1..<count where self[index] != self[kept - 1] {
            self[kept] = self[index]
            kept += 1
        }
        removeSubrange(kept...)
    }
}
