import ArgumentParser
import Foundation
import Testing
@testable import NSICLI

/// `nsi tokenize` against a tiny tokenizer written to a temporary directory. Its
/// vocabulary: "<s>" 0, "h" 1, "i" 2, "Ġ" (space) 3, "hi" 4, "Ġhi" 5; its template puts
/// "<s>" first.
@Suite struct TokenizeCommandTests {
    static let tokenizerJSON = #"""
    {
      "version": "1.0",
      "added_tokens": [
        {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
      ],
      "normalizer": null,
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
      "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}
      },
      "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
      "model": {
        "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
        "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
        "vocab": {"<s>": 0, "h": 1, "i": 2, "\u0120": 3, "hi": 4, "\u0120hi": 5},
        "merges": [["h", "i"], ["\u0120", "hi"]]
      }
    }
    """#

    /// A fresh directory holding tokenizer.json.
    static func modelDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-tokenize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(tokenizerJSON.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        return dir
    }

    @Test func encodesWithAndWithoutTemplate() throws {
        let dir = try Self.modelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = TokenizeCommand.tokenizerURL(model: dir.path, tokenizer: nil)
        #expect(try TokenizeCommand.output(tokenizerAt: url, text: "hi hi", decode: false, specialTokens: true) == "[0, 4, 5]")
        #expect(try TokenizeCommand.output(tokenizerAt: url, text: "hi hi", decode: false, specialTokens: false) == "[4, 5]")
        #expect(try TokenizeCommand.output(tokenizerAt: url, text: "", decode: false, specialTokens: false) == "[]")
    }

    @Test func decodes() throws {
        let dir = try Self.modelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = TokenizeCommand.tokenizerURL(model: nil, tokenizer: dir.appendingPathComponent("tokenizer.json").path)
        #expect(try TokenizeCommand.output(tokenizerAt: url, text: "[0, 4, 5]", decode: true, specialTokens: true) == "<s>hi hi")
        #expect(try TokenizeCommand.output(tokenizerAt: url, text: "[0,4,5]", decode: true, specialTokens: false) == "hi hi")
        #expect(throws: TokenizeCommand.InputError.self) {
            try TokenizeCommand.output(tokenizerAt: url, text: "4, 5", decode: true, specialTokens: true)
        }
    }

    @Test func missingTokenizerNamesTheFile() throws {
        let url = TokenizeCommand.tokenizerURL(model: "/nonexistent/model", tokenizer: nil)
        do {
            _ = try TokenizeCommand.output(tokenizerAt: url, text: "hi", decode: false, specialTokens: true)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("/nonexistent/model/tokenizer.json"))
        }
    }

    @Test func parsesArguments() throws {
        let command = try TokenizeCommand.parse(["--model", "/m", "--no-special-tokens", "--decode", "[1]"])
        #expect(command.model == "/m")
        #expect(command.noSpecialTokens)
        #expect(command.decode)
        #expect(command.text == "[1]")
        #expect(throws: (any Error).self) { try TokenizeCommand.parse(["hi"]) }
        #expect(throws: (any Error).self) { try TokenizeCommand.parse(["--model", "/m", "--tokenizer", "/t", "hi"]) }
    }
}
