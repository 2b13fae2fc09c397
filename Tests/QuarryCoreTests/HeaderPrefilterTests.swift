@testable import QuarryCore
import Testing

/// The byte-level pre-check in front of `TextArticleReader.headerCount` (it
/// spares the indexer a Character split of every line) must never reject a
/// line the full rule accepts.
@Suite struct HeaderPrefilterTests {
    @Test(arguments: [
        ("6 Comments", 6), ("1 Comment", 1), ("0 COMMENTS", 0), ("12 cOmMeNtS", 12), ("3\u{00A0}Comments", 3),
        ("4 \t  comments", 4), ("+2 Comments", 2),
    ])
    func headersStillCount(line: String, count: Int) {
        #expect(TextArticleReader.endsWithCommentWord(line.utf8))
        #expect(TextArticleReader.headerCount(line) == count)
    }

    @Test(arguments: [
        "Comments.", "I read the comments", "6 Comments!", "6 Commentss", "6 Comment s", "omment", "s", "",
        "6 Çomments", "many comments", "6 Kommentare", "6 comments here",
    ])
    func otherLinesAreNotHeaders(line: String) {
        #expect(TextArticleReader.headerCount(line) == nil)
    }

    @Test func thePrecheckOnlyLooksAtTheLastWord() {
        #expect(TextArticleReader.endsWithCommentWord("I read the comments".utf8))
        #expect(!TextArticleReader.endsWithCommentWord("comments.".utf8))
        #expect(!TextArticleReader.endsWithCommentWord("6 Comments!".utf8))
        #expect(!TextArticleReader.endsWithCommentWord("".utf8))
    }
}
