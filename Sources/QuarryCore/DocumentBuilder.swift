import Foundation
import QuarryProtocol
import XapianKit

/// Turns an article and its comments into Xapian documents following
/// `IndexSchema`. One builder per writer thread (it owns a term generator).
final class DocumentBuilder {
    private let generator: TermGenerator
    /// Whether comments get band keys (an index built with near-duplicate detection).
    private let nearDuplicates: Bool

    init(language: String, nearDuplicates: Bool = true, spellingDatabase: WritableDatabase?) throws(XapianError) {
        self.nearDuplicates = nearDuplicates
        var options: TermGenerator.Options = [.cjkNgrams]
        if spellingDatabase != nil { options.insert(.spelling) }
        generator = try TermGenerator(language: language, options: options)
        if let spellingDatabase { try generator.setSpellingDatabase(spellingDatabase) }
        // Longer "words" are base64 blobs, URLs or keyboard mashing: noise in the index.
        try generator.setMaxWordLength(64)
    }

    /// What relates a comment to its copies and near-duplicates.
    struct DuplicateKeys {
        var fingerprint: String
        /// Its band keys (`NearDuplicates.bandKeys`), for `BandStore`; empty for
        /// a text too short to shingle, or in an index without near-duplicates.
        var bands: [UInt64]
    }

    /// The article document followed by one document per comment, each with its
    /// unique id term and, for a comment, its duplicate keys, handed over one at
    /// a time: an article with 100,000 comments never holds 100,000 documents
    /// (about 1 GB) at once.
    func forEachDocument(for article: Article, file: String,
                         _ body: (_ idTerm: String, _ document: Document, _ keys: DuplicateKeys?) throws -> Void) throws {
        let (idTerm, document) = try articleDocument(article, file: file)
        try body(idTerm, document, nil)
        for index in article.comments.indices {
            let (commentTerm, commentDocument, keys) = try commentDocument(article, index, file: file)
            try body(commentTerm, commentDocument, keys)
        }
    }

    private func articleDocument(_ article: Article, file: String) throws -> (String, Document) {
        typealias P = IndexSchema.Prefix
        typealias S = IndexSchema.Slot
        let document = try Document()
        try generator.setDocument(document)
        try generator.index(article.title, prefix: P.title)
        try generator.increaseTermPosition()
        // Title words also count as free text, twice as much as body words.
        try generator.index(article.title, wdf: 2)
        for paragraph in article.paragraphs {
            try generator.increaseTermPosition()
            try generator.index(paragraph)
        }
        if let author = article.author {
            try generator.increaseTermPosition()
            try generator.index(author, prefix: P.author)
            try document.addBooleanTerm(IndexSchema.term(P.authorExact, IndexSchema.normalisedAuthor(author)))
            try document.setValue(S.author, author)
        }
        let idTerm = IndexSchema.term(P.id, article.id)
        try document.addBooleanTerm(idTerm)
        try document.addBooleanTerm(P.kind + DocumentKind.article.rawValue)
        try document.addBooleanTerm(IndexSchema.term(P.article, article.id))
        try document.addBooleanTerm(IndexSchema.fileTerm(file))
        if let source = article.source { try document.addBooleanTerm(IndexSchema.term(P.source, source.lowercased())) }
        try document.setValue(S.article, article.id)
        try document.setValue(S.id, article.id)
        try document.setValue(S.kind, DocumentKind.article.rawValue)
        if let published = article.published {
            try document.setValue(S.day, published.day)
            try document.setValue(S.published, published.sortKey)
        }
        let record = ArticleRecord(
            id: article.id, title: article.title, paragraphs: article.paragraphs, author: article.author,
            url: article.url, published: article.published?.iso, source: article.source, file: file,
            commentCount: article.comments.count, comments: [])
        try document.setData(DocumentRecord.article(record).stored)
        return (idTerm, document)
    }

    private func commentDocument(_ article: Article, _ index: Int, file: String) throws -> (String, Document, DuplicateKeys) {
        typealias P = IndexSchema.Prefix
        typealias S = IndexSchema.Slot
        let comment = article.comments[index]
        let id = article.commentID(index)
        let document = try Document()
        try generator.setDocument(document)
        try generator.index(comment.text)
        try generator.increaseTermPosition()
        try generator.index(comment.author, prefix: P.author)
        let idTerm = IndexSchema.term(P.id, id)
        try document.addBooleanTerm(idTerm)
        try document.addBooleanTerm(P.kind + DocumentKind.comment.rawValue)
        try document.addBooleanTerm(IndexSchema.term(P.article, article.id))
        try document.addBooleanTerm(IndexSchema.fileTerm(file))
        try document.addBooleanTerm(IndexSchema.term(P.authorExact, IndexSchema.normalisedAuthor(comment.author)))
        let normalised = CommentFingerprint.normalise(comment.text)
        let fingerprint = CommentFingerprint.of(comment.text, normalised: normalised)
        try document.addBooleanTerm(P.fingerprint + fingerprint)
        try document.setValue(S.article, article.id)
        try document.setValue(S.author, comment.author)
        try document.setValue(S.kind, DocumentKind.comment.rawValue)
        try document.setValue(S.fingerprint, fingerprint)
        try document.setValue(S.id, id)
        let bands = nearDuplicates ? NearDuplicates.sortedShingles(ofNormalised: normalised).map { NearDuplicates.bandKeys(distinct: $0) } ?? [] : []
        // A comment alone with its text until CoordinationMaintainer, at the end
        // of the run, counts the copies and finds the clusters.
        try document.setValue(S.accounts, number: 1)
        try document.setValue(S.copies, number: 1)
        try document.setValue(S.articles, number: 1)
        if let published = comment.published ?? article.published {
            try document.setValue(S.day, published.day)
            try document.setValue(S.published, published.sortKey)
        }
        let record = CommentRecord(
            id: id, article: article.id, articleTitle: article.title, author: comment.author,
            text: comment.text, published: comment.published?.iso, duplicates: nil)
        try document.setData(DocumentRecord.comment(record).stored)
        return (idTerm, document, DuplicateKeys(fingerprint: fingerprint, bands: bands))
    }
}
