import Foundation
import QuarryProtocol
import Testing

/// `quarry-bench generate`: deterministic corpora whose planted duplicates are
/// exactly what `.truth.json` says.
@Suite struct GeneratorTests {
    struct Truth: Decodable {
        struct ExactGroup: Decodable {
            let text: String
            let accounts: [String]
            let members: [String]
        }

        struct NearMember: Decodable {
            let id: String
            let text: String
            let account: String
            let changedWords: Int
        }

        struct NearGroup: Decodable {
            let base: String
            let members: [NearMember]
        }

        let seed: UInt64
        let articles: Int
        let comments: Int
        let exactGroups: [ExactGroup]
        let nearGroups: [NearGroup]
    }

    /// All files under `root` (hidden ones too) with their bytes.
    func snapshot(_ root: String) -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[relative] = FileManager.default.contents(atPath: root + "/" + relative)
            }
        }
        return files
    }

    @Test func theSameSeedWritesTheSameBytesAndAnotherSeedDoesNot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (name, seed) in [("a", "11"), ("b", "11"), ("c", "12")] {
            _ = try succeed("quarry-bench", "generate", "--articles", "1200", "--seed", seed, "--out", directory.path + "/" + name,
                            "--comment-scale", "0.3")
        }
        let first = snapshot(directory.path + "/a")
        #expect(first.count == 1201)
        #expect(first[".truth.json"] != nil)
        #expect(first == snapshot(directory.path + "/b"))
        let other = snapshot(directory.path + "/c")
        #expect(Set(other.keys) == Set(first.keys))
        #expect(other["d000/a000000.txt"] != first["d000/a000000.txt"])
        // At most 1000 articles a directory.
        #expect(Set(first.keys.filter { $0.hasSuffix(".txt") }.map { $0.prefix(4) }) == ["d000", "d001"])
        #expect(first.keys.filter { $0.hasPrefix("d000/") }.count == 1000)
    }

    @Test func aNonEmptyOutputDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try #require(FileManager.default.createFile(atPath: directory.path + "/keep.txt", contents: Data("mine".utf8)))
        let result = try run("quarry-bench", "generate", "--articles", "5", "--out", directory.path)
        #expect(result.status != 0)
        #expect(result.stderr.contains("not empty"))
        #expect(snapshot(directory.path).keys.sorted() == ["keep.txt"])
    }

    @Test func theTruthFileListsEveryPlantedCopyAndNothingElseRepeats() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus"
        _ = try succeed("quarry-bench", "generate", "--articles", "400", "--seed", "5", "--out", corpus,
                        "--duplicate-groups", "8", "--near-duplicates", "6", "--comment-scale", "0.5")
        let truthData = try #require(FileManager.default.contents(atPath: corpus + "/.truth.json"))
        let truth = try JSONDecoder().decode(Truth.self, from: truthData)
        #expect(truth.seed == 5 && truth.articles == 400)
        #expect(truth.exactGroups.count == 8)
        #expect(truth.nearGroups.reduce(0) { $0 + $1.members.count } == 6)

        // Read every comment back from the files.
        var commentsByID: [String: (author: String, text: String)] = [:]
        var copies: [String: Int] = [:]
        for file in textFiles(under: corpus) {
            let article = try PlainArticle(path: corpus + "/" + file)
            #expect(article.comments.count == article.declaredComments, "\(file)")
            let id = String(file.dropLast(4))
            for (index, comment) in article.comments.enumerated() {
                commentsByID["\(id)#\(index + 1)"] = comment
                copies[normalised(comment.text), default: 0] += 1
            }
        }
        #expect(commentsByID.count == truth.comments)

        for group in truth.exactGroups {
            #expect((2...6).contains(group.members.count))
            let planted = try group.members.map { try #require(commentsByID[$0], "\($0)") }
            #expect(planted.allSatisfy { $0.text == group.text })
            #expect(Set(planted.map(\.author)) == Set(group.accounts))
            #expect(Set(group.accounts).count == group.members.count)
            // Nobody else posted this text.
            #expect(copies[normalised(group.text)] == group.members.count)
        }
        for group in truth.nearGroups {
            let accounts = try #require(truth.exactGroups.first { $0.text == group.base }).accounts
            for member in group.members {
                let comment = try #require(commentsByID[member.id], "\(member.id)")
                #expect(comment.text == member.text && comment.author == member.account)
                #expect(!accounts.contains(member.account))
                #expect((1...3).contains(member.changedWords))
                #expect(normalised(member.text) != normalised(group.base))
                #expect(wordsDiffer(member.text, group.base) <= member.changedWords)
            }
        }
        // The only texts posted more than once are the planted groups.
        let repeated = Set(copies.filter { $0.value > 1 }.keys)
        #expect(repeated == Set(truth.exactGroups.map { normalised($0.text) }))
    }

    @Test func aGeneratedCorpusIndexesCleanlyAndShowsItsDuplicates() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus"
        let index = directory.path + "/index"
        _ = try succeed("quarry-bench", "generate", "--articles", "300", "--seed", "9", "--out", corpus,
                        "--duplicate-groups", "4", "--near-duplicates", "2", "--comment-scale", "0.3", "--max-paragraphs", "3")
        let truth = try JSONDecoder().decode(Truth.self, from: try #require(FileManager.default.contents(atPath: corpus + "/.truth.json")))
        let indexed = try succeed("quarry", "index", corpus, "--index", index)
        #expect(indexed.output.contains("300 scanned, 300 indexed"))
        #expect(indexed.output.contains("300 articles, \(truth.comments) comments, 0 warnings"))

        let group = try #require(truth.exactGroups.first)
        let response = try succeed("quarry", "search", "\"\(group.text.dropLast())\"", "--index", index, "--json", "--limit", "50")
            .decode(SearchResponse.self)
        // A near-duplicate that only added a word at either end still holds the phrase.
        let nearIDs = Set(truth.nearGroups.filter { $0.base == group.text }.flatMap { $0.members.map(\.id) })
        let copies = response.hits.filter { !nearIDs.contains($0.id) }
        #expect(Set(copies.map(\.id)) == Set(group.members))
        let articles = Set(group.members.map { $0.prefix { $0 != "#" } })
        #expect(copies.allSatisfy {
            $0.duplicates == DuplicateInfo(accounts: group.accounts.count, articles: articles.count, copies: group.members.count)
        })
    }

    /// Lower-cased words without punctuation, as duplicate detection compares texts.
    func normalised(_ text: String) -> String {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: " ")
    }

    /// Word edit distance (replacements, insertions, deletions).
    func wordsDiffer(_ a: String, _ b: String) -> Int {
        let x = normalised(a).split(separator: " ")
        let y = normalised(b).split(separator: " ")
        var previous = Array(0...y.count)
        for i in x.indices {
            var current = [i + 1] + Array(repeating: 0, count: y.count)
            for j in y.indices {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x[i] == y[j] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }
}
