import Foundation
@testable import QuarryCore

/// A seeded corpus of a few hundred articles and thousands of comments in the
/// plain-text format, with planted exact duplicates (one text posted by 2 to 6
/// accounts, some copies re-cased or re-punctuated) and near-duplicates (a
/// planted text with 1 to 3 words replaced, inserted or dropped, a name added in
/// front, or a changed ending), and the ground truth of both. Every other
/// comment is a distinct random text.
struct PlantedDuplicateCorpus {
    struct ExactGroup {
        var text: String
        var members: [String]
        var accounts: Set<String>
    }

    struct NearMember {
        var id: String
        var text: String
        /// Index into `exactGroups` of the text it was made from.
        var group: Int
    }

    var exactGroups: [ExactGroup] = []
    var nearMembers: [NearMember] = []
    var comments = 0

    /// Every comment of a group or its near-duplicates: one true cluster each.
    var trueClusters: [Set<String>] {
        var clusters = exactGroups.map { Set($0.members) }
        for near in nearMembers { clusters[near.group].insert(near.id) }
        return clusters
    }

    /// The same corpus for the same seed on every machine.
    struct Random {
        var generator: SplitMix64

        init(state: UInt64) { generator = SplitMix64(seed: state) }

        mutating func next() -> UInt64 { generator.next() }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }
        mutating func chance(_ probability: Double) -> Bool { Double(next() >> 11) * 0x1p-53 < probability }
    }

    static func write(to root: String, seed: UInt64, articles: Int = 240, groups: Int = 70, nearDuplicates: Int = 100) throws -> PlantedDuplicateCorpus {
        var random = Random(state: seed)
        let vocabulary = makeVocabulary(&random)
        let accounts = (0..<500).map { number -> String in
            ["reader", "Anna K.", "old_sailor", "Marta", "grumpy", "Jonas B"][number % 6] + "\(number)"
        }
        // Zipf-like: word k is drawn with probability about 1/k, as in real text.
        func word() -> String {
            let rank = Int(exp(Double(random.next() >> 11) * 0x1p-53 * log(Double(vocabulary.count))))
            return vocabulary[min(vocabulary.count, max(1, rank)) - 1]
        }
        func words(_ count: Int) -> [String] { (0..<count).map { _ in word() } }
        /// A near-duplicate of `base`: 1 to 3 words replaced, inserted or dropped;
        /// or a name and "is right" in front; or the last 1 to 3 words changed.
        func edit(_ base: [String]) -> [String] {
            var text = base
            switch random.below(5) {
            case 0:
                text = [accounts[random.below(accounts.count)], "is", "right"] + text
            case 1:
                let changed = random.int(in: 1...3)
                text = Array(text.dropLast(changed)) + words(changed)
            default:
                for _ in 0..<random.int(in: 1...3) {
                    switch random.below(3) {
                    case 0:
                        let position = random.below(text.count)
                        text[position] = word()
                    case 1:
                        let inserted = word()
                        text.insert(inserted, at: random.below(text.count + 1))
                    default:
                        if text.count > 6 { text.remove(at: random.below(text.count)) }
                    }
                }
            }
            return text
        }

        var truth = PlantedDuplicateCorpus()
        var usedTexts = Set<String>()
        // Comments planted into each article: (author, text, exact group or near index).
        var planted = [[(author: String, text: String, group: Int?, near: Int?)]](repeating: [], count: articles)
        var baseWords: [[String]] = []
        for group in 0..<groups {
            var text: [String]
            repeat { text = words(random.int(in: 8...24)) } while !usedTexts.insert(text.joined(separator: " ")).inserted
            baseWords.append(text)
            var members = Set<String>()
            let size = random.int(in: 2...6)
            while members.count < size { members.insert(accounts[random.below(accounts.count)]) }
            let home = random.below(articles)
            truth.exactGroups.append(ExactGroup(text: sentence(text), members: [], accounts: members))
            for account in members.sorted() {
                // Normalisation must see through case, punctuation and spacing.
                var surface = sentence(text)
                if random.chance(0.25) { surface = surface.uppercased() }
                if random.chance(0.25) { surface = surface.replacingOccurrences(of: " ", with: "  ") + "!!" }
                planted[random.chance(0.4) ? home : random.below(articles)].append((account, surface, group, nil))
            }
        }
        for near in 0..<nearDuplicates {
            let group = random.below(groups)
            var text: [String]
            repeat { text = edit(baseWords[group]) }
            while !usedTexts.insert(text.joined(separator: " ")).inserted
            var account: String
            repeat { account = accounts[random.below(accounts.count)] } while truth.exactGroups[group].accounts.contains(account)
            planted[random.below(articles)].append((account, sentence(text), nil, near))
            truth.nearMembers.append(NearMember(id: "", text: sentence(text), group: group))
        }

        for article in 0..<articles {
            let id = "a\(article / 100)/story\(article)"
            let ordinary = random.chance(0.3) ? random.int(in: 0...3) : random.int(in: 4...36)
            var comments: [(author: String, text: String, group: Int?, near: Int?)] = []
            for _ in 0..<ordinary {
                var text: [String]
                repeat { text = words(random.int(in: 6...40)) } while !usedTexts.insert(text.joined(separator: " ")).inserted
                comments.append((accounts[random.below(accounts.count)], sentence(text), nil, nil))
            }
            for comment in planted[article] { comments.insert(comment, at: random.below(comments.count + 1)) }
            var file = sentence(words(random.int(in: 4...9))) + "\n"
            for _ in 0..<2 { file += sentence(words(random.int(in: 30...60))) + "\n" }
            file += "\(comments.count) Comments\n"
            for (number, comment) in comments.enumerated() {
                file += comment.author + "\n" + comment.text + "\n"
                if let group = comment.group { truth.exactGroups[group].members.append("\(id)#\(number + 1)") }
                if let near = comment.near { truth.nearMembers[near].id = "\(id)#\(number + 1)" }
            }
            truth.comments += comments.count
            let path = root + "/" + id + ".txt"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(file.utf8).write(to: URL(fileURLWithPath: path))
        }
        return truth
    }


    private static func sentence(_ words: [String]) -> String {
        guard let first = words.first else { return "" }
        return ([first.prefix(1).uppercased() + first.dropFirst()] + words.dropFirst()).joined(separator: " ") + "."
    }

    /// English function words first, then made-up words.
    private static func makeVocabulary(_ random: inout Random) -> [String] {
        var result = "the of and to a in that is for it on was with as he said by at from his be have an has are but not they this".split(separator: " ").map(String.init)
        var seen = Set(result)
        let onsets = ["b", "br", "c", "d", "dr", "f", "g", "gr", "k", "l", "m", "n", "p", "pl", "r", "s", "st", "t", "tr", "v", "z"]
        let vowels = ["a", "e", "i", "o", "u", "ai", "ee", "ou"]
        let codas = ["", "n", "r", "s", "t", "l", "nd", "ck"]
        while result.count < 3000 {
            var word = ""
            for _ in 0..<random.int(in: 1...3) {
                word += onsets[random.below(onsets.count)] + vowels[random.below(vowels.count)] + codas[random.below(codas.count)]
            }
            if seen.insert(word).inserted { result.append(word) }
        }
        return result
    }
}
