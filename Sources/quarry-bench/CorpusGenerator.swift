#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import QuarryCore

extension SplitMix64 {
    /// An independent stream for item `index` of a run seeded with `seed`, so
    /// each article's text depends only on the seed and its own number.
    static func stream(_ seed: UInt64, _ index: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }

    /// Uniform in `0..<bound` by multiply-high; its bias (bound / 2^64) is far
    /// below anything a benchmark corpus could show.
    mutating func below(_ bound: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }
}

/// Draws ranks 0..<n with probability proportional to 1/(rank+1) (Zipf, s = 1)
/// in constant time with Vose's alias method. s = 1 keeps the table free of
/// `pow`, whose last bit may differ between C libraries: the same seed gives
/// the same corpus everywhere.
struct ZipfSampler {
    private let probability: [Double]
    private let alias: [Int]

    init(count: Int) {
        let weights = (0..<count).map { 1.0 / Double($0 + 1) }
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(count) / total }
        var probability = [Double](repeating: 1, count: count)
        var alias = Array(0..<count)
        var small = scaled.indices.filter { scaled[$0] < 1 }
        var large = scaled.indices.filter { scaled[$0] >= 1 }
        while let less = small.popLast(), let more = large.popLast() {
            probability[less] = scaled[less]
            alias[less] = more
            scaled[more] -= 1 - scaled[less]
            if scaled[more] < 1 { small.append(more) } else { large.append(more) }
        }
        // What is left is 1 up to rounding: those columns never use their alias.
        self.probability = probability
        self.alias = alias
    }

    func sample(_ random: inout SplitMix64) -> Int {
        let column = random.below(probability.count)
        return random.unit() < probability[column] ? column : alias[column]
    }
}

/// Writes a synthetic news corpus in the plain-text format (docs/FORMAT.md):
/// Zipf-distributed vocabulary, realistic article lengths, heavy-tailed
/// comment sections, commenters from a pool, and planted exact and near
/// duplicate comments whose positions are recorded in `.truth.json`.
struct CorpusGenerator {
    struct Settings: Sendable {
        var articles: Int
        var seed: UInt64
        var duplicateGroups: Int
        var nearDuplicates: Int
        var commentScale: Double
        var maxParagraphs: Int
    }

    struct Summary: Sendable {
        var articles: Int
        var comments: Int
        var exactGroups: Int
        var exactCopies: Int
        var nearDuplicates: Int
        var truthPath: String
    }

    struct Failure: Error {
        var message: String
    }

    /// The ground truth file, `OUT/.truth.json`.
    struct Truth: Encodable {
        struct ExactGroup: Encodable {
            var text: String
            var accounts: [String]
            /// `ARTICLE#k`, in the order the copies were planted.
            var members: [String]
        }

        struct NearMember: Encodable {
            var id: String
            var text: String
            var account: String
            /// Words replaced or inserted relative to the base text.
            var changedWords: Int
        }

        struct NearGroup: Encodable {
            var base: String
            var members: [NearMember]
        }

        var seed: UInt64
        var articles: Int
        var comments: Int
        var exactGroups: [ExactGroup]
        var nearGroups: [NearGroup]
    }

    /// A comment whose text is dictated by the truth rather than drawn at random.
    private struct Planted {
        var account: Int
        var words: [Int]
        /// Which truth entry gets this copy's id.
        var group: Int
        var near: Int?
    }

    private let settings: Settings
    private let words: [[UInt8]]
    private let wordSampler: ZipfSampler
    private let accounts: [String]
    private let accountSampler: ZipfSampler

    init(_ settings: Settings) {
        self.settings = settings
        var random = SplitMix64.stream(settings.seed, .max)
        words = Self.vocabulary(size: 6000, random: &random)
        wordSampler = ZipfSampler(count: words.count)
        accounts = Self.accountNames(count: min(50_000, max(300, settings.articles / 5)), random: &random)
        // A few accounts write most comments, as on real comment sections.
        accountSampler = ZipfSampler(count: accounts.count)
    }

    func write(to out: String) throws(Failure) -> Summary {
        try prepareDirectory(out)
        let count = settings.articles
        var random = SplitMix64(seed: settings.seed)

        var commentCounts = (0..<count).map { _ in
            Int((Double(Self.commentCount(&random)) * settings.commentScale).rounded())
        }

        // Texts already used, by the sequence of word ranks: ordinary comments
        // must never repeat each other or a planted text, or the truth would lie.
        var usedTexts = Set<UInt64>()
        var planted: [Int: [Planted]] = [:]
        var groupTexts: [[Int]] = []
        var groupAccounts: [[Int]] = []
        for group in 0..<settings.duplicateGroups {
            let text = uniqueText(wordCount: 10...24, random: &random, used: &usedTexts)
            var members: [Int] = []
            let size = min(random.int(in: 2...6), accounts.count)
            while members.count < size {
                let account = random.below(accounts.count)
                if !members.contains(account) { members.append(account) }
            }
            // Some copies share an article (a brigade on one story), others spread out.
            let home = random.below(count)
            for account in members {
                let article = random.chance(0.4) ? home : random.below(count)
                planted[article, default: []].append(Planted(account: account, words: text, group: group, near: nil))
            }
            groupTexts.append(text)
            groupAccounts.append(members)
        }
        var nearEdits: [Int] = []
        for near in 0..<(settings.duplicateGroups > 0 ? settings.nearDuplicates : 0) {
            let group = random.below(groupTexts.count)
            var edits = 0
            var text: [Int] = []
            repeat {
                edits = random.int(in: 1...3)
                text = edit(groupTexts[group], edits: edits, random: &random)
            } while !usedTexts.insert(Self.key(text)).inserted
            var account: Int
            repeat { account = random.below(accounts.count) } while groupAccounts[group].contains(account) && accounts.count > 6
            planted[random.below(count), default: []].append(Planted(account: account, words: text, group: group, near: near))
            nearEdits.append(edits)
        }

        // Where each planted comment lands among its article's comments.
        var placement: [Int: [Int: Planted]] = [:]
        var exactMembers = [[String]](repeating: [], count: groupTexts.count)
        var nearMembers = [[Truth.NearMember]](repeating: [], count: groupTexts.count)
        for article in planted.keys.sorted() {
            guard let list = planted[article] else { continue }
            let total = commentCounts[article] + list.count
            var positions = Set<Int>()
            while positions.count < list.count { positions.insert(random.below(total)) }
            var slots: [Int: Planted] = [:]
            for (position, comment) in zip(positions.sorted(), list) {
                slots[position] = comment
                let id = "\(articleID(article))#\(position + 1)"
                if let near = comment.near {
                    nearMembers[comment.group].append(Truth.NearMember(
                        id: id, text: render(comment.words), account: accounts[comment.account],
                        changedWords: nearEdits[near]))
                } else {
                    exactMembers[comment.group].append(id)
                }
            }
            placement[article] = slots
            commentCounts[article] = total
        }

        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        var directory = -1
        for article in 0..<count {
            if article / 1000 != directory {
                directory = article / 1000
                try makeDirectory(out + "/" + directoryName(directory))
            }
            buffer.removeAll(keepingCapacity: true)
            var articleRandom = SplitMix64.stream(settings.seed, UInt64(article))
            appendArticle(
                comments: commentCounts[article], planted: placement[article] ?? [:],
                to: &buffer, random: &articleRandom, used: &usedTexts)
            try writeFile(out + "/" + articleID(article) + ".txt", buffer)
        }

        let truth = Truth(
            seed: settings.seed, articles: count, comments: commentCounts.reduce(0, +),
            exactGroups: groupTexts.indices.map {
                Truth.ExactGroup(text: render(groupTexts[$0]), accounts: groupAccounts[$0].map { accounts[$0] },
                                 members: exactMembers[$0])
            },
            nearGroups: groupTexts.indices.filter { !nearMembers[$0].isEmpty }.map {
                Truth.NearGroup(base: render(groupTexts[$0]), members: nearMembers[$0])
            })
        let truthPath = out + "/.truth.json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            try writeFile(truthPath, Array(try encoder.encode(truth)) + [0x0A])
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(message: "cannot encode the truth file: \(error)")
        }
        return Summary(
            articles: count, comments: truth.comments, exactGroups: truth.exactGroups.count,
            exactCopies: exactMembers.reduce(0) { $0 + $1.count }, nearDuplicates: nearEdits.count,
            truthPath: truthPath)
    }

    // MARK: layout

    private var fileDigits: Int { max(6, String(settings.articles - 1).count) }
    private var directoryDigits: Int { max(3, String((settings.articles - 1) / 1000).count) }

    private func directoryName(_ number: Int) -> String { "d" + Self.padded(number, directoryDigits) }

    /// `d000/a000123`: the path without `.txt`, which is what Quarry uses as the id.
    func articleID(_ article: Int) -> String {
        directoryName(article / 1000) + "/a" + Self.padded(article, fileDigits)
    }

    private static func padded(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // MARK: text

    /// Heavy-tailed: most articles get a handful of comments, some dozens, a few hundreds.
    private static func commentCount(_ random: inout SplitMix64) -> Int {
        let roll = random.unit()
        switch roll {
        case ..<0.50: return random.int(in: 0...3)
        case ..<0.85: return random.int(in: 4...15)
        case ..<0.97: return random.int(in: 16...60)
        case ..<0.995: return random.int(in: 61...150)
        default: return random.int(in: 151...500)
        }
    }

    private func appendArticle(
        comments: Int, planted: [Int: Planted], to out: inout [UInt8], random: inout SplitMix64, used: inout Set<UInt64>
    ) {
        let title = draw(random.int(in: 5...12), &random)
        appendSentence(title[...], end: nil, commaRate: 0, random: &random, to: &out)
        out.append(0x0A)
        for _ in 0..<random.int(in: min(3, settings.maxParagraphs)...settings.maxParagraphs) {
            var remaining = random.int(in: 30...120)
            var first = true
            while remaining > 0 {
                let length = min(remaining, random.int(in: 6...18))
                remaining -= length
                if !first { out.append(0x20) }
                first = false
                let sentence = draw(length, &random)
                appendSentence(sentence[...], end: 0x2E, commaRate: 0.06, random: &random, to: &out)
            }
            out.append(0x0A)
        }
        out.append(contentsOf: Array("\(comments) Comment\(comments == 1 ? "" : "s")\n".utf8))
        for position in 0..<comments {
            if let comment = planted[position] {
                out.append(contentsOf: Array(accounts[comment.account].utf8))
                out.append(0x0A)
                out.append(contentsOf: render(comment.words).utf8)
            } else {
                out.append(contentsOf: Array(accounts[accountSampler.sample(&random)].utf8))
                out.append(0x0A)
                // Comments are short more often than long.
                let short = random.chance(0.7)
                let length = 8 + random.below(short ? 20 : 55)
                var text: [Int]
                repeat { text = draw(length, &random) } while !used.insert(Self.key(text)).inserted
                var start = 0
                while start < text.count {
                    let end = text.count - start < 14 ? text.count : start + random.int(in: 6...12)
                    if start > 0 { out.append(0x20) }
                    let roll = random.unit()
                    let mark: UInt8 = roll < 0.1 ? 0x3F : roll < 0.2 ? 0x21 : 0x2E
                    appendSentence(text[start..<end], end: mark, commaRate: 0.06, random: &random, to: &out)
                    start = end
                }
            }
            out.append(0x0A)
        }
    }

    private func draw(_ count: Int, _ random: inout SplitMix64) -> [Int] {
        (0..<count).map { _ in wordSampler.sample(&random) }
    }

    private func uniqueText(wordCount: ClosedRange<Int>, random: inout SplitMix64, used: inout Set<UInt64>) -> [Int] {
        while true {
            let text = draw(random.int(in: wordCount), &random)
            if used.insert(Self.key(text)).inserted { return text }
        }
    }

    /// Replaces or inserts `edits` words, each a word the text did not have there.
    private func edit(_ base: [Int], edits: Int, random: inout SplitMix64) -> [Int] {
        var text = base
        for _ in 0..<edits {
            var word: Int
            repeat { word = wordSampler.sample(&random) } while base.contains(word)
            if random.chance(0.5) {
                text[random.below(text.count)] = word
            } else {
                text.insert(word, at: random.below(text.count + 1))
            }
        }
        return text
    }

    /// Identity of a word sequence. Words are distinct lower-case ASCII strings
    /// joined by spaces, so equal sequences are exactly equal normalised texts.
    private static func key<Words: Collection<Int>>(_ text: Words) -> UInt64 {
        var hash: UInt64 = 0x243F_6A88_85A3_08D3
        for word in text {
            var mixer = SplitMix64(seed: hash ^ UInt64(word))
            hash = mixer.next()
        }
        return hash ^ UInt64(text.count)
    }

    /// A planted comment: one sentence, capitalised, with a full stop.
    private func render(_ text: [Int]) -> String {
        var bytes: [UInt8] = []
        var unused = SplitMix64(seed: 0)
        appendSentence(text[...], end: 0x2E, commaRate: 0, random: &unused, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Words with the first one capitalised, an occasional comma (never drawn
    /// when `commaRate` is 0), and `end` as the closing mark.
    private func appendSentence(
        _ text: ArraySlice<Int>, end: UInt8?, commaRate: Double, random: inout SplitMix64, to out: inout [UInt8]
    ) {
        for (offset, rank) in text.enumerated() {
            if offset > 0 { out.append(0x20) }
            let word = words[rank]
            if offset == 0, let first = word.first, first >= 0x61, first <= 0x7A {
                out.append(first - 0x20)
                out.append(contentsOf: word.dropFirst())
            } else {
                out.append(contentsOf: word)
            }
            if commaRate > 0, offset + 1 < text.count, random.chance(commaRate) { out.append(0x2C) }
        }
        if let end { out.append(end) }
    }

    // MARK: vocabulary and names

    /// English function and news words at the top ranks, then made-up words
    /// from syllables: a few thousand distinct lower-case ASCII words.
    private static func vocabulary(size: Int, random: inout SplitMix64) -> [[UInt8]] {
        let common = """
            the of and to a in that is for it on was with as he said by at from his be have \
            an has are but not they this had were which its after who been their will would \
            more one about new there than when also over into two last up other year people \
            government minister some could first all out police years president country state \
            against can may so officials city between before under while report week since \
            public million most told during them where market election world only three court \
            says talks health plan house news local company time workers price support council \
            leaders should security water energy deal union school budget vote party
            """
        var seen = Set<String>()
        var result: [[UInt8]] = []
        for word in common.split(separator: " ") where seen.insert(String(word)).inserted {
            result.append(Array(word.utf8))
        }
        let onsets = ["", "b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m",
                      "n", "p", "pl", "pr", "r", "s", "sh", "sk", "sl", "st", "t", "th", "tr", "v", "w", "z"]
        let vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"]
        let codas = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng", "rt", "x"]
        while result.count < size {
            var word = ""
            // Mostly two syllables, as English words are; some one, a few three.
            let roll = random.unit()
            for _ in 0..<(roll < 0.3 ? 1 : roll < 0.85 ? 2 : 3) {
                word += onsets[random.below(onsets.count)] + vowels[random.below(vowels.count)] + codas[random.below(codas.count)]
            }
            if (3...12).contains(word.count), seen.insert(word).inserted { result.append(Array(word.utf8)) }
        }
        return result
    }

    /// Distinct commenter names (distinct even ignoring case): real-looking
    /// names and handles.
    private static func accountNames(count: Int, random: inout SplitMix64) -> [String] {
        let first = ["Anna", "Ben", "Carlos", "Dana", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kasia",
                     "Liam", "Mei", "Nadia", "Omar", "Pia", "Quentin", "Rosa", "Sami", "Tomas", "Uma", "Viktor",
                     "Wen", "Ximena", "Yusuf", "Zoe", "Marta", "Pavel", "Lena", "Aisha"]
        let last = ["Abbott", "Berg", "Costa", "Dietrich", "Evans", "Fischer", "Garcia", "Horvat", "Ivanova",
                    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrova", "Quinn", "Rossi",
                    "Silva", "Tanaka", "Urban", "Varga", "Weber", "Yilmaz", "Zhang", "MacLeod", "Haddad"]
        let handles = ["kestrel", "northern", "quiet", "grumpy", "old", "river", "night", "paper", "stone", "red",
                       "blue", "wild", "iron", "lucky", "silent", "urban", "salty", "brave", "lazy", "early"]
        let nouns = ["fox", "reader", "sailor", "owl", "observer", "light", "cynic", "fan", "voice", "watcher",
                     "pilot", "farmer", "critic", "wolf", "citizen", "bee", "skeptic", "hawk"]
        var seen = Set<String>()
        var names: [String] = []
        while names.count < count {
            let name: String
            switch random.below(4) {
            case 0: name = first[random.below(first.count)] + " " + last[random.below(last.count)]
            case 1: name = first[random.below(first.count)] + " " + String(last[random.below(last.count)].prefix(1)) + "."
            case 2: name = handles[random.below(handles.count)] + "_" + nouns[random.below(nouns.count)] + String(random.below(100))
            default: name = (first[random.below(first.count)] + last[random.below(last.count)]).lowercased() + String(random.below(1000))
            }
            if seen.insert(name.lowercased()).inserted { names.append(name) }
        }
        return names
    }

    // MARK: files

    private func prepareDirectory(_ path: String) throws(Failure) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure(message: "'\(path)' exists and is not a directory") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            // Leftovers of an earlier, larger run would silently join the corpus.
            guard entries.isEmpty else {
                throw Failure(message: "'\(path)' is not empty; give a new directory or remove this one first")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Failure(message: "cannot create '\(path)': \(error.localizedDescription)")
        }
    }

    private func makeDirectory(_ path: String) throws(Failure) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw Failure(message: "cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    private func writeFile(_ path: String, _ bytes: [UInt8]) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Failure(message: "cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                posixWrite(descriptor, raw.baseAddress.map { $0 + written }, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw Failure(message: "cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            written += result
        }
    }
}

/// The C library's write(2), out of reach by plain name inside a type with a `write` method.
private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
