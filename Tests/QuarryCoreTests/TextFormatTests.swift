import Testing
import QuarryCore

/// The plain-text article format, one rule a test (docs/FORMAT.md).
@Suite struct TextFormatTests {
    static let file = "world/story.txt"

    func read(_ text: String) -> ParsedFile {
        read(Array(text.utf8))
    }

    func read(_ bytes: [UInt8]) -> ParsedFile {
        CorpusFormat.text.read(bytes, relativePath: Self.file)
    }

    func article(_ text: String) throws -> Article {
        try #require(read(text).articles.first)
    }

    func pairs(_ article: Article) -> [[String]] {
        article.comments.map { [$0.author, $0.text] }
    }

    @Test func aWellFormedFileGivesTitleParagraphsAndCommentsWithoutWarnings() throws {
        let parsed = read("""
            Floods close the valley road
            Heavy rain closed the road on Monday.
            Crews expect to reopen it on Friday.
            2 Comments
            Ann Lee
            Stay safe, everyone.
            Bob
            The drains were never cleared.

            """)
        #expect(parsed.warnings.isEmpty)
        let article = try #require(parsed.articles.first)
        #expect(parsed.articles.count == 1)
        #expect(article.id == "world/story")
        #expect(article.title == "Floods close the valley road")
        #expect(article.paragraphs == ["Heavy rain closed the road on Monday.", "Crews expect to reopen it on Friday."])
        #expect(pairs(article) == [["Ann Lee", "Stay safe, everyone."], ["Bob", "The drains were never cleared."]])
        #expect(article.author == nil && article.published == nil && article.url == nil)
    }

    @Test func titleIsTheFirstNonBlankLineTrimmed() throws {
        let article = try article("\n   \n\t  Floods close the valley road  \nBody.\n0 Comments\n")
        #expect(article.title == "Floods close the valley road")
        #expect(article.paragraphs == ["Body."])
    }

    @Test func eachLineBetweenTitleAndHeaderIsOneParagraph() throws {
        let article = try article("Title\nFirst paragraph.\nSecond, with a comma.\n  Third, indented.  \n0 Comments\n")
        #expect(article.paragraphs == ["First paragraph.", "Second, with a comma.", "Third, indented."])
    }

    @Test(arguments: ["2 Comments", "2 comments", "2 COMMENTS", "2 cOmMeNtS", "2   Comments"])
    func headerIsCaseInsensitive(header: String) throws {
        let parsed = read("Title\nBody.\n\(header)\nAnn\nOne.\nBob\nTwo.\n")
        #expect(parsed.warnings.isEmpty)
        #expect(try pairs(#require(parsed.articles.first)) == [["Ann", "One."], ["Bob", "Two."]])
    }

    @Test(arguments: ["1 Comment", "1 comment", "1 Comments"])
    func oneCommentTakesEitherNumber(header: String) throws {
        let parsed = read("Title\nBody.\n\(header)\nAnn\nOnly me.\n")
        #expect(parsed.warnings.isEmpty)
        #expect(try pairs(#require(parsed.articles.first)) == [["Ann", "Only me."]])
    }

    @Test func zeroCommentsIsAnArticleWithNoComments() throws {
        let parsed = read("Title\nBody.\n0 Comments\n")
        #expect(parsed.warnings.isEmpty)
        #expect(try #require(parsed.articles.first).comments.isEmpty)
    }

    @Test func byteOrderMarkIsDropped() throws {
        let parsed = read([0xEF, 0xBB, 0xBF] + Array("Title\nBody.\n1 Comment\nAnn\nHi.\n".utf8))
        #expect(parsed.warnings.isEmpty)
        let article = try #require(parsed.articles.first)
        #expect(article.title == "Title")
        #expect(article.title.unicodeScalars.first == "T")
    }

    /// CRLF (Windows) and a lone CR (old Mac) end lines as LF does, and leave no CR behind.
    @Test(arguments: ["\r\n", "\r", "\n"])
    func everyLineEndEndsALine(lineEnd: String) throws {
        let lines = ["Title", "Body one.", "Body two.", "1 Comment", "Ann", "Hi."]
        let parsed = read(lines.joined(separator: lineEnd) + lineEnd)
        #expect(parsed.warnings.isEmpty)
        let article = try #require(parsed.articles.first)
        #expect(article.paragraphs == ["Body one.", "Body two."])
        #expect(pairs(article) == [["Ann", "Hi."]])
        #expect(!(article.title + article.paragraphs.joined()).contains("\r"))
    }

    @Test func mixedLineEndsCountOneLineEach() throws {
        // LF, CRLF and CR in one file: the header is on line 4 whatever the ends.
        let parsed = read("Title\nBody.\r\n\r3 Comments\nAnn\nHi.\n")
        let warning = try #require(parsed.warnings.first)
        #expect(warning.line == 4)
    }

    @Test func blankLinesAreSkippedEverywhere() throws {
        let parsed = read("""

            Title

            Body one.

            Body two.
              \t
            2 Comments

            Ann

            Hi.

            Bob
            Hello.


            """)
        #expect(parsed.warnings.isEmpty)
        let article = try #require(parsed.articles.first)
        #expect(article.paragraphs == ["Body one.", "Body two."])
        #expect(pairs(article) == [["Ann", "Hi."], ["Bob", "Hello."]])
    }

    @Test func headerIsTheLastCountLineFollowedByExactlyItsPairs() throws {
        // "2 Comments" in the body is a paragraph: the real header is the last
        // line of that form followed by as many pairs as it says.
        let parsed = read("Title\nReaders left\n2 Comments\nunder the first version.\n1 Comment\nAnn\nHi.\n")
        #expect(parsed.warnings.isEmpty)
        let article = try #require(parsed.articles.first)
        #expect(article.paragraphs == ["Readers left", "2 Comments", "under the first version."])
        #expect(pairs(article) == [["Ann", "Hi."]])
    }

    @Test func aCommentThatReadsLikeAHeaderStaysAComment() throws {
        // "3 comments" is comment text, but no pairs follow it to make it a header.
        let parsed = read("Title\nBody.\n2 Comments\nAnn\n3 comments\nBob\nHi.\n")
        #expect(parsed.warnings.isEmpty)
        #expect(try pairs(#require(parsed.articles.first)) == [["Ann", "3 comments"], ["Bob", "Hi."]])
    }

    @Test func countMismatchWarnsWithFileAndLineAndKeepsThePairsFound() throws {
        let parsed = read("Title\nBody.\n3 Comments\nAnn\nOne.\nBob\nTwo.\n")
        let article = try #require(parsed.articles.first)
        #expect(pairs(article) == [["Ann", "One."], ["Bob", "Two."]])
        #expect(parsed.warnings.count == 1)
        let warning = try #require(parsed.warnings.first)
        #expect(warning.file == Self.file)
        #expect(warning.line == 3)
        #expect(warning.message.contains("3 comments") && warning.message.contains("2 follow"))
        #expect(warning.description.hasPrefix("world/story.txt:3: "))
    }

    @Test func moreCommentsThanTheHeaderSaysAreAllKept() throws {
        let parsed = read("Title\nBody.\n1 Comment\nAnn\nOne.\nBob\nTwo.\n")
        #expect(try pairs(#require(parsed.articles.first)) == [["Ann", "One."], ["Bob", "Two."]])
        #expect(parsed.warnings.map(\.line) == [3])
    }

    @Test func oddTrailingLineWarnsAndIsIgnored() throws {
        let parsed = read("Title\nBody.\n2 Comments\nAnn\nOne.\nBob\n")
        #expect(try pairs(#require(parsed.articles.first)) == [["Ann", "One."]])
        let odd = try #require(parsed.warnings.first { $0.line == 6 })
        #expect(odd.file == Self.file)
        #expect(odd.message.contains("'Bob'"))
        // One pair where the header promised two: that is said too, on the header's line.
        #expect(parsed.warnings.contains { $0.line == 3 })
    }

    @Test func invalidUTF8IsReplacedWithU_FFFDAndWarned() throws {
        var bytes = Array("Title\nBody.\n1 Comment\nAnn\nCaf".utf8)
        bytes += [0xE9, 0x20, 0xFF] // Latin-1 é and a byte that is never UTF-8
        bytes += Array(" ok.\n".utf8)
        let parsed = read(bytes)
        let article = try #require(parsed.articles.first)
        #expect(article.comments.first?.text == "Caf\u{FFFD} \u{FFFD} ok.")
        let warning = try #require(parsed.warnings.first)
        #expect(parsed.warnings.count == 1)
        #expect(warning.file == Self.file && warning.line == 5)
        #expect(warning.message.contains("UTF-8"))
    }

    @Test func nulBytesAreRemovedAndWarned() throws {
        let parsed = read(Array("Ti".utf8) + [0] + Array("tle\nBody.\n1 Comment\nAnn\nHi".utf8) + [0, 0] + Array(".\n".utf8))
        let article = try #require(parsed.articles.first)
        #expect(article.title == "Title")
        #expect(article.comments.first?.text == "Hi.")
        #expect(parsed.warnings.map(\.line) == [1, 5])
        #expect(parsed.warnings.allSatisfy { $0.file == Self.file && $0.message.contains("NUL") })
    }

    @Test(arguments: ["", "\n\n", " \r\n\t\n"])
    func emptyFileWarnsAndGivesNoArticle(text: String) {
        let parsed = read(text)
        #expect(parsed.articles.isEmpty)
        #expect(parsed.warnings.count == 1)
        #expect(parsed.warnings.first?.file == Self.file)
        #expect(parsed.warnings.first?.message.contains("empty") == true)
    }

    @Test func fileWithoutHeaderIsAnArticleWithoutCommentsAndAWarning() throws {
        let parsed = read("Title\nBody one.\nBody two.\n")
        let article = try #require(parsed.articles.first)
        #expect(article.paragraphs == ["Body one.", "Body two."])
        #expect(article.comments.isEmpty)
        #expect(parsed.warnings.count == 1)
        #expect(parsed.warnings.first?.message.contains("Comments") == true)
    }

    @Test func titleOnlyIsAnArticleWithNoBody() throws {
        let parsed = read("Just a title\n")
        let article = try #require(parsed.articles.first)
        #expect(article.title == "Just a title")
        #expect(article.paragraphs.isEmpty)
    }
}
