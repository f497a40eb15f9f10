import Foundation
import Testing
@testable import NSITokenizer
import NSITestSupport

/// The 225 reference cases produced by the Hugging Face tokenizers library from the
/// SmolLM2 tokenizer (add_special_tokens=False).
@Suite struct SmolLM2CasesTests {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
    }

    struct CaseFile: Decodable {
        let cases: [Case]
    }

    static func cases() throws -> [Case] {
        let data = try Data(contentsOf: Fixtures.url("smollm2-135m/tokenizer-cases.json"))
        return try JSONDecoder().decode(CaseFile.self, from: data).cases
    }

    @Test func allCasesAreThere() throws {
        // 225 from the first reference set and 8 edge cases (Scripts/make-references).
        #expect(try Self.cases().count == 233)
    }

    @Test func encodeMatchesReference() throws {
        let tokenizer = try Fixtures.smolLM2()
        var failures = 0
        for c in try Self.cases() {
            let got = tokenizer.encode(c.text, addSpecialTokens: false)
            if got != c.ids {
                failures += 1
                Issue.record("encode \(String(reflecting: c.text))\n  expected \(c.ids)\n  got      \(got)")
            }
        }
        #expect(failures == 0)
    }

    @Test func decodeMatchesReference() throws {
        let tokenizer = try Fixtures.smolLM2()
        for c in try Self.cases() {
            let got = tokenizer.decode(c.ids)
            #expect(got == c.text, "decode \(c.ids)\n  expected \(String(reflecting: c.text))\n  got      \(String(reflecting: got))")
        }
    }

    @Test func vocabularyFacts() throws {
        let tokenizer = try Fixtures.smolLM2()
        #expect(tokenizer.vocabSize == 49152)
        #expect(tokenizer.id(forToken: "<|endoftext|>") == 0)
        #expect(tokenizer.id(forToken: "Hello") == 19556)
        #expect(tokenizer.token(forId: 19556) == "Hello")
        #expect(tokenizer.token(forId: 905) == "\u{120}world")
        #expect(tokenizer.token(forId: -1) == nil)
        #expect(tokenizer.token(forId: 49152) == nil)
        #expect(tokenizer.specialTokenIds.count == 17)
        #expect(tokenizer.specialTokenIds.contains(1))
        // The template adds nothing, so both encodings agree.
        #expect(tokenizer.encode("Hello world") == [19556, 905])
    }

    @Test func encodingIsStableAcrossCallsAndThreads() async throws {
        let tokenizer = try Fixtures.smolLM2()
        let cases = try Self.cases()
        let text = cases.map(\.text).joined(separator: " ")
        let first = tokenizer.encode(text, addSpecialTokens: false)
        let results = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 { group.addTask { tokenizer.encode(text, addSpecialTokens: false) } }
            return await group.reduce(into: [[Int]]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == first })
        #expect(tokenizer.decode(first) == text)
    }
}
