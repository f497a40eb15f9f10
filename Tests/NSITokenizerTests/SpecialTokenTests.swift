import Foundation
import Testing
@testable import NSITokenizer
import NSITestSupport

@Suite struct SpecialTokenTests {
    @Test func chatMarkupMapsToSpecialIds() throws {
        let tokenizer = try Fixtures.smolLM2()
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecialTokens: false)
        #expect(ids == [1, 4093, 198, 26843, 2])
        #expect(tokenizer.decode(ids) == "<|im_start|>user\nHi<|im_end|>")
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == "user\nHi")
    }

    @Test func specialTokenBetweenWords() throws {
        let tokenizer = try Fixtures.smolLM2()
        #expect(tokenizer.encode("a<|endoftext|>b") == [81, 0, 82])
        // Adjacent special tokens, and a near miss that must stay plain text.
        #expect(tokenizer.encode("<|im_end|><|im_start|>") == [2, 1])
        let nearMiss = tokenizer.encode("<|im_end|")
        #expect(!nearMiss.contains(2))
        #expect(tokenizer.decode(nearMiss) == "<|im_end|")
    }

    @Test func decodeSkipsUnknownIdsAndRepairsBrokenUTF8() throws {
        let tokenizer = try Fixtures.smolLM2()
        #expect(tokenizer.decode([19556, -5, 1_000_000, 905]) == "Hello world")
        // A private-use character outside the vocabulary is four byte tokens; its first
        // byte alone is not valid UTF-8.
        let ids = tokenizer.encode("\u{10FFFD}")
        #expect(ids.count == 4)
        #expect(tokenizer.decode(Array(ids.prefix(1))) == "\u{FFFD}")
        #expect(tokenizer.decode(ids) == "\u{10FFFD}")
    }

    /// lstrip/rstrip swallow the whitespace beside a token; single_word needs word boundaries.
    @Test func addedTokenFlags() throws {
        let data = try HandmadeTokenizer.document(merges: [], addedTokens: [
            ["id": 300, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": true,
             "normalized": false, "special": true],
            ["id": 301, "content": "cat", "single_word": true, "lstrip": false, "rstrip": false,
             "normalized": true, "special": false],
        ])
        let tokenizer = try Tokenizer(data: data, source: "flags.json")
        let space = 32  // byte 0x20's token ("Ġ") has id 32 in this vocabulary
        #expect(tokenizer.encode("a <mask> b") == [97, 300, 98])
        #expect(tokenizer.encode("a cat") == [97, space, 301])
        #expect(tokenizer.encode("cats") == [99, 97, 116, 115])
        #expect(tokenizer.encode("cat") == [301])
        #expect(tokenizer.specialTokenIds == [300])
        #expect(tokenizer.vocabSize == 302)
    }
}
