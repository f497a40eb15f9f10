import Foundation
import Testing
@testable import NSITokenizer
import NSITestSupport

/// The repository's shared test data (Tests/Fixtures) and the SmolLM2 tokenizer, loaded once for all tests.
extension Fixtures {
    private static let smolLM2Result = Result<Tokenizer, Error> {
        try Tokenizer(contentsOf: url("smollm2-135m/tokenizer.json"))
    }

    static func smolLM2() throws -> Tokenizer {
        try smolLM2Result.get()
    }
}

/// Builds small tokenizer.json documents by hand so that expected ids can be worked out
/// on paper.
enum HandmadeTokenizer {
    /// The byte-level character of each byte: printable Latin-1 stands for itself, the
    /// other 68 bytes map to U+0100 onwards in byte order.
    static let byteCharacters: [String] = {
        var out: [String] = []
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                out.append(String(UnicodeScalar(UInt8(b))))
            } else {
                out.append(String(Character(Unicode.Scalar(next)!)))
                next += 1
            }
        }
        return out
    }()

    /// A vocabulary where byte b's token has id b, then `merges` in order, each result
    /// taking the next id (256, 257, ...).
    static func vocab(merges: [[String]]) -> [String: Int] {
        var vocab: [String: Int] = [:]
        for (b, ch) in byteCharacters.enumerated() { vocab[ch] = b }
        for pair in merges where vocab[pair[0] + pair[1]] == nil {
            vocab[pair[0] + pair[1]] = vocab.count
        }
        return vocab
    }

    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static var gpt2PreTokenizer: [String: Any] {
        ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
    }

    static var llama3PreTokenizer: [String: Any] {
        [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": llama3Pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ],
        ]
    }

    static func document(
        merges: [[String]],
        preTokenizer: Any = gpt2PreTokenizer,
        postProcessor: Any = NSNull(),
        addedTokens: [[String: Any]] = [],
        extraVocab: [String: Int] = [:],
        modelOverrides: [String: Any] = [:]
    ) throws -> Data {
        var vocab = vocab(merges: merges)
        vocab.merge(extraVocab) { _, new in new }
        var model: [String: Any] = [
            "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(),
            "continuing_subword_prefix": "", "end_of_word_suffix": "",
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges,
        ]
        model.merge(modelOverrides) { _, new in new }
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": addedTokens, "normalizer": NSNull(),
            "pre_tokenizer": preTokenizer, "post_processor": postProcessor,
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": model,
        ]
        return try JSONSerialization.data(withJSONObject: root)
    }

    static func addedToken(_ id: Int, _ content: String, special: Bool = true) -> [String: Any] {
        ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
         "normalized": false, "special": special]
    }
}
