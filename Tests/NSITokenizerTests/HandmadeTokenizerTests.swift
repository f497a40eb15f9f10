import Foundation
import Testing
@testable import NSITokenizer

/// Small tokenizers built in the test, with merges chosen so that the expected ids can be
/// worked out by hand. Byte b's token has id b ("Ġ" is the space, 32; "Ċ" the newline, 10);
/// merge results take ids 256 onwards in list order.
@Suite struct HandmadeTokenizerTests {
    static let newline = HandmadeTokenizer.byteCharacters[10]
    static let space = HandmadeTokenizer.byteCharacters[32]

    static let merges: [[String]] = [
        ["3", "4"],          // 256, rank 0: beats "12"+"3" when the digits are one word
        ["1", "2"],          // 257
        ["12", "3"],         // 258
        ["4", "5"],          // 259
        ["'", "M"],          // 260
        [space, "o"],        // 261
        [space + "o", "k"],  // 262
        [newline, newline],  // 263
    ]

    @Test func llama3SplitGroupsDigitsInThreesAndKeepsContractions() throws {
        let data = try HandmadeTokenizer.document(merges: Self.merges, preTokenizer: HandmadeTokenizer.llama3PreTokenizer)
        let tokenizer = try Tokenizer(data: data, source: "llama3-style.json")
        // Words: "I" "'M" " " "123" "45" " ok"
        #expect(tokenizer.encode("I'M 12345 ok") == [73, 260, 32, 258, 259, 262])
        // Words: "a" " \n\n" "b"
        #expect(tokenizer.encode("a \n\nb") == [97, 32, 263, 98])
        #expect(tokenizer.decode([73, 260, 32, 258, 259, 262]) == "I'M 12345 ok")
    }

    @Test func gpt2SplitKeepsDigitRunsAndCaseSensitiveContractions() throws {
        let data = try HandmadeTokenizer.document(merges: Self.merges)
        let tokenizer = try Tokenizer(data: data, source: "gpt2-style.json")
        // Words: "I" "'" "M" " 12345" " ok"; in " 12345" the rank-0 merge "34" wins,
        // which leaves "12" and "5" unmerged.
        #expect(tokenizer.encode("I'M 12345 ok") == [73, 39, 77, 32, 257, 256, 53, 262])
        // Words: "a" " \n" "\n" "b"
        #expect(tokenizer.encode("a \n\nb") == [97, 32, 10, 10, 98])
    }

    @Test func ignoreMergesTakesWholeWordsFromTheVocabulary() throws {
        let plain = try Tokenizer(data: HandmadeTokenizer.document(merges: Self.merges, extraVocab: ["12345": 300]),
                                  source: "plain.json")
        #expect(plain.encode("12345") == [257, 256, 53])
        let data = try HandmadeTokenizer.document(merges: Self.merges, extraVocab: ["12345": 300],
                                                  modelOverrides: ["ignore_merges": true])
        let tokenizer = try Tokenizer(data: data, source: "ignore-merges.json")
        #expect(tokenizer.encode("12345") == [300])
        #expect(tokenizer.encode("123") == [258])
    }

    @Test func mergesAsSpaceSeparatedStrings() throws {
        let pairs = try HandmadeTokenizer.document(merges: Self.merges)
        guard var root = try JSONSerialization.jsonObject(with: pairs) as? [String: Any],
              var model = root["model"] as? [String: Any] else {
            Issue.record("could not rebuild the document")
            return
        }
        model["merges"] = Self.merges.map { $0.joined(separator: " ") }
        root["model"] = model
        let tokenizer = try Tokenizer(data: JSONSerialization.data(withJSONObject: root), source: "legacy-merges.json")
        #expect(tokenizer.encode("I'M 12345 ok") == [73, 39, 77, 32, 257, 256, 53, 262])
    }

    @Test func digitsPreTokenizerInASequence() throws {
        let preTokenizer: [String: Any] = [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "Digits", "individual_digits": true],
                HandmadeTokenizer.gpt2PreTokenizer,
            ],
        ]
        let data = try HandmadeTokenizer.document(merges: Self.merges, preTokenizer: preTokenizer)
        let tokenizer = try Tokenizer(data: data, source: "digits.json")
        // Every digit is its own word, so no digit merge applies.
        #expect(tokenizer.encode("12345") == [49, 50, 51, 52, 53])
    }

    @Test func templateAddsBeginningOfText() throws {
        let template: [String: Any] = [
            "type": "TemplateProcessing",
            "single": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
            "pair": [["Sequence": ["id": "A", "type_id": 0]], ["Sequence": ["id": "B", "type_id": 1]]],
            "special_tokens": ["<s>": ["id": "<s>", "ids": [300], "tokens": ["<s>"]]],
        ]
        let data = try HandmadeTokenizer.document(
            merges: Self.merges, postProcessor: template,
            addedTokens: [HandmadeTokenizer.addedToken(300, "<s>"), HandmadeTokenizer.addedToken(301, "</s>")])
        let tokenizer = try Tokenizer(data: data, source: "template.json")
        #expect(tokenizer.encode("ok") == [300, 111, 107])
        #expect(tokenizer.encode("ok", addSpecialTokens: false) == [111, 107])
        #expect(tokenizer.encode(" ok", addSpecialTokens: true) == [300, 262])
        #expect(tokenizer.bosTokenId == 300)
        #expect(tokenizer.eosTokenId == 301)
        #expect(tokenizer.decode([300, 111, 107]) == "<s>ok")
        #expect(tokenizer.decode([300, 111, 107], skipSpecialTokens: true) == "ok")
    }

    /// Llama 3 chains a ByteLevel post-processor and a template in a Sequence.
    @Test func sequenceOfPostProcessors() throws {
        let processor: [String: Any] = [
            "type": "Sequence",
            "processors": [
                ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
                [
                    "type": "TemplateProcessing",
                    "single": [
                        ["SpecialToken": ["id": "<|begin_of_text|>", "type_id": 0]],
                        ["Sequence": ["id": "A", "type_id": 0]],
                        ["SpecialToken": ["id": "<|end_of_text|>", "type_id": 0]],
                    ],
                    "special_tokens": [
                        "<|begin_of_text|>": ["id": "<|begin_of_text|>", "ids": [300], "tokens": ["<|begin_of_text|>"]],
                        "<|end_of_text|>": ["id": "<|end_of_text|>", "ids": [301], "tokens": ["<|end_of_text|>"]],
                    ],
                ] as [String: Any],
            ],
        ]
        let data = try HandmadeTokenizer.document(
            merges: Self.merges, preTokenizer: HandmadeTokenizer.llama3PreTokenizer, postProcessor: processor,
            addedTokens: [HandmadeTokenizer.addedToken(300, "<|begin_of_text|>"),
                          HandmadeTokenizer.addedToken(301, "<|end_of_text|>")])
        let tokenizer = try Tokenizer(data: data, source: "llama3-template.json")
        #expect(tokenizer.encode("ok") == [300, 111, 107, 301])
        #expect(tokenizer.encode("<|begin_of_text|>ok", addSpecialTokens: false) == [300, 111, 107])
        #expect(tokenizer.bosTokenId == 300)
        #expect(tokenizer.eosTokenId == 301)
    }

    @Test func prefixSpaceIsAddedOnce() throws {
        let preTokenizer: [String: Any] = ["type": "ByteLevel", "add_prefix_space": true, "use_regex": true]
        let data = try HandmadeTokenizer.document(merges: Self.merges, preTokenizer: preTokenizer)
        let tokenizer = try Tokenizer(data: data, source: "prefix.json")
        #expect(tokenizer.encode("ok") == [262])
        #expect(tokenizer.encode(" ok") == [262])
        #expect(tokenizer.encode("") == [])
    }
}
