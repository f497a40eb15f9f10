import Foundation
import Testing
@testable import NSITokenizer
import NSITestSupport

/// Broken or unsupported files give a TokenizerError naming the file and the problem.
@Suite struct ErrorTests {
    /// Loads `data` and returns the error it gives, recording an issue if it loads.
    static func loadError(_ data: Data, source: String = "bad.json") -> TokenizerError? {
        do {
            _ = try Tokenizer(data: data, source: source)
            Issue.record("\(source) loaded but should not have")
        } catch let error as TokenizerError {
            return error
        } catch {
            Issue.record("unexpected error type \(error)")
        }
        return nil
    }

    /// The handmade document with one part replaced.
    static func document(_ change: (inout [String: Any]) -> Void) throws -> Data {
        let base = try HandmadeTokenizer.document(merges: [["a", "b"]])
        guard var root = try JSONSerialization.jsonObject(with: base) as? [String: Any] else {
            throw CocoaError(.coderInvalidValue)
        }
        change(&root)
        return try JSONSerialization.data(withJSONObject: root)
    }

    static func changingModel(_ change: @escaping (inout [String: Any]) -> Void) throws -> Data {
        try document { root in
            var model = root["model"] as? [String: Any] ?? [:]
            change(&model)
            root["model"] = model
        }
    }

    @Test func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/tokenizer.json")
        do {
            _ = try Tokenizer(contentsOf: url)
            Issue.record("loaded a missing file")
        } catch let error as TokenizerError {
            #expect(error.kind == .unreadable)
            #expect(error.description.contains("/nonexistent/dir/tokenizer.json"))
            #expect(error.description.contains("no such file"))
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func directoryInsteadOfFile() {
        do {
            _ = try Tokenizer(contentsOf: FileManager.default.temporaryDirectory)
            Issue.record("loaded a directory")
        } catch {
            #expect("\(error)".contains("is a directory"))
        }
    }

    @Test func malformedJSONGivesLineAndColumn() {
        let error = Self.loadError(Data("{\n  \"model\": [1, 2,, 3]\n}".utf8))
        #expect(error?.kind == .malformedJSON)
        #expect(error?.description.contains("bad.json") == true)
        #expect(error?.description.contains("line 2, column 18") == true)
    }

    @Test func truncatedFile() throws {
        let full = try Data(contentsOf: Fixtures.url("smollm2-135m/tokenizer.json"))
        let error = Self.loadError(full.prefix(full.count / 2), source: "truncated.json")
        #expect(error?.kind == .malformedJSON)
        #expect(error?.description.contains("truncated.json") == true)
        #expect(error?.description.contains("end of file") == true)
    }

    @Test func notJSONAtAll() {
        #expect(Self.loadError(Data([0xFF, 0xFE, 0x00]))?.kind == .malformedJSON)
        #expect(Self.loadError(Data())?.kind == .malformedJSON)
        #expect(Self.loadError(Data("[]".utf8))?.kind == .invalid)
        #expect(Self.loadError(Data(repeating: UInt8(ascii: "["), count: 100_000)).map { $0.kind } == .malformedJSON)
    }

    @Test func unsupportedModelType() throws {
        for type in ["WordPiece", "Unigram", "WordLevel"] {
            let error = Self.loadError(try Self.changingModel { $0["type"] = type })
            #expect(error?.kind == .unsupported)
            #expect(error?.description.contains("model type \"\(type)\" is not supported") == true)
            #expect(error?.description.contains("BPE") == true)
        }
    }

    @Test func unknownPreTokenizer() throws {
        let error = Self.loadError(try Self.document { $0["pre_tokenizer"] = ["type": "Whitespace"] })
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains("pre-tokenizer type \"Whitespace\"") == true)
        #expect(error?.description.contains("supported: ByteLevel") == true)
    }

    @Test func unknownSplitPattern() throws {
        let error = Self.loadError(try Self.document {
            $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false],
            ]]
        })
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains("pre_tokenizer.pretokenizers[0].pattern.Regex") == true)
        #expect(error?.description.contains("\\w+") == true)
    }

    @Test func unsupportedNormalizerAndDecoder() throws {
        let normalizer = Self.loadError(try Self.document { $0["normalizer"] = ["type": "Precompiled"] })
        #expect(normalizer?.kind == .unsupported)
        #expect(normalizer?.description.contains("normalizer type \"Precompiled\"") == true)
        let decoder = Self.loadError(try Self.document { $0["decoder"] = ["type": "WordPiece"] })
        #expect(decoder?.description.contains("decoder type \"WordPiece\"") == true)
    }

    @Test func mergeNamingUnknownToken() throws {
        let error = Self.loadError(try Self.changingModel { $0["merges"] = [["a", "b"], ["zz", "b"]] })
        #expect(error?.kind == .invalid)
        #expect(error?.description.contains("model.merges[1]") == true)
        #expect(error?.description.contains("\"zz\"") == true)
    }

    @Test func mergesInUnknownFormat() throws {
        let number = Self.loadError(try Self.changingModel { $0["merges"] = [42] })
        #expect(number?.description.contains("unknown merge format") == true)
        let threeParts = Self.loadError(try Self.changingModel { $0["merges"] = ["a b c"] })
        #expect(threeParts?.description.contains("not two tokens") == true)
        let notAList = Self.loadError(try Self.changingModel { $0["merges"] = "a b" })
        #expect(notAList?.description.contains("model.merges: expected an array") == true)
    }

    @Test func vocabIdsOutOfRange() throws {
        let negative = Self.loadError(try Self.changingModel { model in
            var vocab = model["vocab"] as? [String: Any] ?? [:]
            vocab["zz"] = -3
            model["vocab"] = vocab
        })
        #expect(negative?.kind == .invalid)
        #expect(negative?.description.contains("token \"zz\" has id -3, out of range") == true)
        let huge = Self.loadError(try Self.changingModel { model in
            var vocab = model["vocab"] as? [String: Any] ?? [:]
            vocab["zz"] = 1 << 40
            model["vocab"] = vocab
        })
        #expect(huge?.kind == .invalid)
        let fractional = Self.loadError(try Self.changingModel { model in
            var vocab = model["vocab"] as? [String: Any] ?? [:]
            vocab["zz"] = 1.5
            model["vocab"] = vocab
        })
        #expect(fractional?.description.contains("expected an integer") == true)
    }

    @Test func missingSections() throws {
        let noModel = Self.loadError(try Self.document { $0["model"] = nil })
        #expect(noModel?.description.contains("model: missing") == true)
        let noVocab = Self.loadError(try Self.changingModel { $0["vocab"] = nil })
        #expect(noVocab?.description.contains("model.vocab: missing") == true)
        let badAdded = Self.loadError(try Self.document { $0["added_tokens"] = [["content": "<x>"]] })
        #expect(badAdded?.description.contains("added_tokens[0]: missing \"id\"") == true)
    }
}
