import Testing
import QuarryCore

/// `.json` (one article) and `.jsonl` (one article a line), docs/FORMAT.md.
@Suite struct JSONFormatTests {
    func readObject(_ text: String, file: String = "wire/grain.json") -> ParsedFile {
        CorpusFormat.json.read(Array(text.utf8), relativePath: file)
    }

    func readLines(_ text: String, file: String = "feeds/wire.jsonl") -> ParsedFile {
        CorpusFormat.jsonLines.read(Array(text.utf8), relativePath: file)
    }

    @Test func everyFieldOfAJSONArticleIsRead() throws {
        let parsed = readObject("""
            {"id": "wire/2024/grain-deal", "title": " Grain deal signed ", "body": ["First.", "  Second.  "],
             "url": "https://example.org/grain", "published": "2024-07-02", "source": "Wire",
             "author": "Ann Lee",
             "comments": [{"author": "Bob", "text": "About time.", "published": "2024-07-02T09:30:00Z"},
                          {"text": "  No name given.  "}]}
            """)
        #expect(parsed.warnings.isEmpty)
        let article = try #require(parsed.articles.first)
        #expect(article.id == "wire/2024/grain-deal")
        #expect(article.title == "Grain deal signed")
        #expect(article.paragraphs == ["First.", "Second."])
        #expect(article.url == "https://example.org/grain")
        #expect(article.published?.iso == "2024-07-02")
        #expect(article.published?.day == "20240702")
        #expect(article.source == "Wire")
        #expect(article.author == "Ann Lee")
        #expect(article.comments.map(\.author) == ["Bob", "anonymous"])
        #expect(article.comments.map(\.text) == ["About time.", "No name given."])
        #expect(article.comments.first?.published?.iso == "2024-07-02T09:30:00Z")
        #expect(article.comments.last?.published == nil)
        #expect(article.commentID(1) == "wire/2024/grain-deal#2")
    }

    @Test func onlyTheTitleIsRequiredAndTheIdComesFromThePath() throws {
        let parsed = readObject(#"{"title": "Bare", "body": "Line one.\nLine two.\r\n\nLine three."}"#)
        #expect(parsed.warnings.isEmpty)
        let article = try #require(parsed.articles.first)
        #expect(article.id == "wire/grain")
        #expect(article.paragraphs == ["Line one.", "Line two.", "Line three."])
        #expect(article.url == nil && article.published == nil && article.source == nil && article.author == nil)
        #expect(article.comments.isEmpty)
    }

    @Test func aBadJSONObjectIsAWarningNamingTheField() throws {
        let missing = readObject(#"{"body": "No title here."}"#)
        #expect(missing.articles.isEmpty)
        #expect(missing.warnings.first?.message.contains("'title'") == true)
        #expect(missing.warnings.first?.line == nil)

        let wrongType = readObject(#"{"title": "T", "comments": [{"text": 42}]}"#)
        #expect(wrongType.articles.isEmpty)
        #expect(wrongType.warnings.first?.message.contains("comments[0].text") == true)

        let broken = readObject(#"{"title": "T", "#)
        #expect(broken.articles.isEmpty)
        #expect(broken.warnings.first?.message.contains("not valid JSON") == true)
    }

    @Test func anEmptyJSONFileIsAWarning() {
        let parsed = readObject("  \n")
        #expect(parsed.articles.isEmpty)
        #expect(parsed.warnings.first?.message.contains("empty") == true)
    }

    @Test func aDateThatIsNotADateIsDroppedWithAWarning() throws {
        let parsed = readObject(#"{"title": "T", "published": "last Tuesday"}"#)
        let article = try #require(parsed.articles.first)
        #expect(article.published == nil)
        #expect(parsed.warnings.first?.message.contains("'published'") == true)
        #expect(parsed.warnings.first?.message.contains("last Tuesday") == true)
    }

    @Test func jsonLinesHoldsAnArticleALineWithIdsFromTheLineNumber() throws {
        let parsed = readLines("""
            {"title": "First"}

            {"id": "custom/id", "title": "Third line", "comments": [{"author": "Ann", "text": "Hi."}]}\r
            {"title": "Fourth"}
            """)
        #expect(parsed.warnings.isEmpty)
        #expect(parsed.articles.map(\.id) == ["feeds/wire:1", "custom/id", "feeds/wire:4"])
        #expect(parsed.articles.map(\.title) == ["First", "Third line", "Fourth"])
        #expect(parsed.articles[1].commentID(0) == "custom/id#1")
    }

    @Test func aBadLineInJSONLinesIsAWarningWithItsLineAndTheOthersAreRead() throws {
        let parsed = readLines("""
            {"title": "Good one"}
            {"title": 42}
            this is not json
            {"title": "Good two", "comments": [{"author": "Ann"}]}
            {"title": "Good three"}
            """)
        #expect(parsed.articles.map(\.title) == ["Good one", "Good three"])
        #expect(parsed.warnings.map(\.line) == [2, 3, 4])
        #expect(parsed.warnings.allSatisfy { $0.file == "feeds/wire.jsonl" })
        #expect(parsed.warnings[0].message.contains("'title'"))
        #expect(parsed.warnings[1].message.contains("not valid JSON"))
        #expect(parsed.warnings[2].message.contains("comments[0].text"))
        #expect(parsed.warnings[0].description.hasPrefix("feeds/wire.jsonl:2: "))
    }
}

/// Which files are read and what ids their articles and comments get.
@Suite struct CorpusIdentityTests {
    @Test(arguments: [
        ("world/korea.txt", "world/korea"),
        ("a.txt", "a"),
        ("2024/07/wire.v2.jsonl", "2024/07/wire.v2"),
        ("dotted.dir/plain", "dotted.dir/plain"),
    ])
    func articleIdIsTheRelativePathWithoutTheExtension(path: String, id: String) {
        #expect(CorpusFormat.articleID(forRelativePath: path) == id)
    }

    @Test func commentKOfArticleXIsXHashK() {
        let article = Article(id: "world/korea", title: "T", paragraphs: [], comments: [
            Comment(author: "A", text: "one"), Comment(author: "B", text: "two"),
        ])
        #expect(article.comments.indices.map(article.commentID) == ["world/korea#1", "world/korea#2"])
    }

    @Test(arguments: [
        ("story.txt", CorpusFormat.text), ("STORY.TXT", .text), ("feed.json", .json), ("feed.JSONL", .jsonLines),
    ])
    func formatComesFromTheExtensionInAnyCase(name: String, format: CorpusFormat) {
        #expect(CorpusFormat(fileName: name) == format)
    }

    @Test(arguments: ["notes.md", "image.png", "README", ".txt", "archive.txt.gz"])
    func otherFilesHaveNoFormat(name: String) {
        #expect(CorpusFormat(fileName: name) == nil)
    }

    @Test func scannerReadsCorpusFilesSkipsHiddenOnesAndCountsTheRest() throws {
        let corpus = try TemporaryDirectory()
        defer { corpus.remove() }
        try corpus.write("b/second.txt", "T\n0 Comments\n")
        try corpus.write("a/first.json", #"{"title": "T"}"#)
        try corpus.write("a/feed.jsonl", #"{"title": "T"}"#)
        try corpus.write("a/notes.md", "not an article")
        try corpus.write("README", "not an article")
        try corpus.write(".truth.json", "{}")
        try corpus.write(".git/objects/x.txt", "hidden directory")
        try corpus.write("b/.draft.txt", "hidden file")

        let scan = try CorpusScanner.scan(root: corpus.path)
        #expect(scan.files.map(\.relativePath) == ["a/feed.jsonl", "a/first.json", "b/second.txt"])
        #expect(scan.files.map(\.format) == [.jsonLines, .json, .text])
        #expect(scan.report.skipped == 2)
        #expect(scan.report.warnings.isEmpty)
        #expect(scan.files.allSatisfy { $0.size > 0 && $0.modified > 0 })
    }

    @Test func scanningAMissingDirectoryIsAClearError() throws {
        let error = try #require(throws: QuarryError.self) {
            _ = try CorpusScanner.scan(root: "/nonexistent/corpus")
        }
        #expect(error.code == .corpusNotFound)
        #expect(error.message.contains("/nonexistent/corpus"))
    }
}
