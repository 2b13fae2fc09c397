import Foundation
import QuarryProtocol
import Testing

/// `quarry duplicates` and `quarry similar`, run as a user runs them on Corpus/.
@Suite struct DuplicateCLITests {
    @Test func duplicatesListsTheGroupsLargestFirst() throws {
        let index = try CLITests.sharedIndex.get()
        let response = try succeed("quarry", "duplicates", "--index", index, "--json").decode(DuplicatesResponse.self)
        #expect(response.total == 7 && !response.near)
        #expect(response.groups.first?.accounts.count == 4)
        #expect(response.groups.map(\.accounts.count) == response.groups.map(\.accounts.count).sorted(by: >))
        let three = try succeed("quarry", "duplicates", "--index", index, "--min-accounts", "3", "--json").decode(DuplicatesResponse.self)
        #expect(three.total == 5)

        let text = try succeed("quarry", "duplicates", "--index", index, "--limit", "2").output
        #expect(text.contains("4 accounts · 4 comments"))
        #expect(text.contains("Groups 1–2 of 7."))
    }

    @Test func duplicatesOfOneCommentAndNearClusters() throws {
        let index = try CLITests.sharedIndex.get()
        let copies = try succeed("quarry", "duplicates", "--index", index, "--of", "world/north-korea-military-delegation-russia#2", "--json")
            .decode(DuplicatesResponse.self)
        #expect(copies.groups.first.map { Set($0.members.map(\.id)) } == [
            "world/north-korea-military-delegation-russia#1", "world/north-korea-military-delegation-russia#2",
        ])
        let near = try succeed("quarry", "duplicates", "--near", "--index", index, "--of", "world/korea-military-hotline-restored#1")
        #expect(near.output.contains("0.81  world/korea-military-hotline-restored#1  Carlos Mendes"))
        #expect(near.output.contains("\"Seoul's concerns are understandable"))

        let unknown = try run("quarry", "duplicates", "--index", index, "--of", "world/nothing#1")
        #expect(unknown.status == 1 && unknown.stderr.contains("world/nothing#1"))
        let article = try run("quarry", "duplicates", "--index", index, "--of", "world/korea-military-hotline-restored")
        #expect(article.status == 2)
    }

    @Test func similarPrintsTheDocumentsMostLikeAnArticle() throws {
        let index = try CLITests.sharedIndex.get()
        let response = try succeed("quarry", "similar", "world/eu-sanctions-package-shadow-fleet", "--index", index, "--limit", "3", "--json")
            .decode(SimilarResponse.self)
        #expect(response.hits.count == 3 && response.hits.allSatisfy { $0.kind == .article })
        #expect(response.terms.contains("sanctions"))
        let text = try succeed("quarry", "similar", "world/eu-sanctions-package-shadow-fleet", "--index", index, "--limit", "3").output
        #expect(text.contains("like world/eu-sanctions-package-shadow-fleet:"))
        #expect(text.contains("Results 1–3 of"))
    }

    @Test func searchFiltersOnCoordination() throws {
        let index = try CLITests.sharedIndex.get()
        let response = try succeed("quarry", "search", "sanctions accounts:3..", "--index", index, "--json").decode(SearchResponse.self)
        #expect(response.hits.count == 4)
        #expect(response.hits.allSatisfy { $0.duplicates?.accounts == 4 && $0.cluster?.size == 7 })
    }
}
