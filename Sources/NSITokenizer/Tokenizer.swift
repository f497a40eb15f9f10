import Foundation
import NSIJSON

/// A byte-level BPE tokenizer read from a Hugging Face `tokenizer.json` (GPT-2, SmolLM,
/// Llama 3, Qwen2 and similar). Immutable after loading apart from an internal word
/// cache, so one instance can serve concurrent callers.
public final class Tokenizer: Sendable {
    /// Where the tokenizer was loaded from, for messages.
    public let source: String
    /// One more than the largest id of the vocabulary and the added tokens.
    public let vocabSize: Int
    /// Ids of added tokens marked special; `decode(skipSpecialTokens: true)` drops them.
    public let specialTokenIds: Set<Int>
    /// The token a template puts before the text, else a conventional begin-of-text added token.
    public let bosTokenId: Int?
    /// The token a template puts after the text, else a conventional end-of-text added token.
    public let eosTokenId: Int?

    private let tokens: [String?]
    private let tokenIds: [String: Int]
    private let model: BPEModel
    private let normalizer: Normalizer?
    private let preTokenizer: PreTokenizer
    private let postProcessor: PostProcessor
    /// Added tokens matched in the raw text, then those matched after normalization.
    private let rawAddedTokens: AddedTokenMatcher
    private let normalizedAddedTokens: AddedTokenMatcher

    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            let problem = !exists ? "no such file"
                : isDirectory.boolValue ? "is a directory, expected a tokenizer.json file"
                : "cannot read the file"
            throw TokenizerError(.unreadable, source: url.path, problem)
        }
        try self.init(data: data, source: url.path)
    }

    /// Loads from the bytes of a tokenizer.json; `source` names it in errors.
    public init(data: Data, source: String) throws {
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw TokenizerError(.malformedJSON, source: source,
                                 "malformed JSON at line \(error.line), column \(error.column): \(error.message)")
        }
        let reader = TokenizerFileReader(source: source)
        guard json.objectValue != nil else {
            throw reader.invalid("top level", "expected an object, found \(json.kindName)")
        }
        let parts = try reader.readModel(json["model"])
        let addedTokens = try reader.readAddedTokens(json["added_tokens"])
        let normalizer = try reader.readNormalizer(json["normalizer"])
        let postProcessor = try reader.readPostProcessor(json["post_processor"])
        try reader.checkDecoder(json["decoder"])

        self.source = source
        self.model = parts.model
        self.normalizer = normalizer
        self.preTokenizer = try reader.readPreTokenizer(json["pre_tokenizer"])
        self.postProcessor = postProcessor

        // Added tokens take precedence over the model's entry for the same id or text. An id
        // reads back as the text it matches, so a normalized token's is the normalized form.
        var tokens = parts.tokens
        var tokenIds = parts.model.vocab
        let largestAdded = addedTokens.map(\.id).max() ?? -1
        if largestAdded >= tokens.count {
            tokens.append(contentsOf: [String?](repeating: nil, count: largestAdded + 1 - tokens.count))
        }
        for token in addedTokens {
            tokens[token.id] = token.normalized ? normalizer?.apply(token.content) ?? token.content : token.content
            tokenIds[token.content] = token.id
        }
        self.tokens = tokens
        self.tokenIds = tokenIds
        self.vocabSize = tokens.count
        self.specialTokenIds = Set(addedTokens.filter(\.special).map(\.id))

        self.rawAddedTokens = AddedTokenMatcher(
            addedTokens.filter { !$0.normalized }.map { (pattern: $0.content, token: $0) })
        self.normalizedAddedTokens = AddedTokenMatcher(
            addedTokens.filter(\.normalized).map { (pattern: normalizer?.apply($0.content) ?? $0.content, token: $0) })

        let present = { (names: [String]) -> Int? in names.lazy.compactMap { tokenIds[$0] }.first }
        self.bosTokenId = postProcessor.prefix.first
            ?? present(["<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>"])
        self.eosTokenId = postProcessor.suffix.last
            ?? present(["<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>"])
    }

    /// The id of a token string (added tokens first, then the vocabulary's byte-level spelling).
    public func id(forToken token: String) -> Int? {
        tokenIds[token]
    }

    /// The token string of an id, in the vocabulary's byte-level spelling; nil when unknown.
    public func token(forId id: Int) -> String? {
        guard id >= 0 && id < tokens.count else { return nil }
        return tokens[id]
    }

    /// The ids of `text`. Added tokens in the text are recognised even when
    /// `addSpecialTokens` is false; that flag only controls the post-processor's template.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 8)
        let scalars = Array(text.unicodeScalars)
        for segment in rawAddedTokens.split(scalars[...]) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let raw):
                let normalized = normalizer.map { $0.apply(raw)[...] } ?? raw
                for inner in normalizedAddedTokens.split(normalized) {
                    switch inner {
                    case .token(let id): ids.append(id)
                    case .text(let text): encodeText(text, into: &ids)
                    }
                }
            }
        }
        return addSpecialTokens ? postProcessor.apply(to: ids) : ids
    }

    private func encodeText(_ text: ArraySlice<Unicode.Scalar>, into ids: inout [Int]) {
        var bytes: [UInt8] = []
        for word in preTokenizer.split(text) {
            bytes.removeAll(keepingCapacity: true)
            for scalar in word {
                UTF8.encode(scalar) { bytes.append($0) }
            }
            model.encode(word: bytes, into: &ids)
        }
    }

    /// The text of `ids`. Byte-level tokens are mapped back to bytes and the bytes read as
    /// UTF-8, with U+FFFD for invalid sequences (as when ids stop mid-character).
    /// Unknown ids are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard let token = token(forId: id) else { continue }
            if skipSpecialTokens && specialTokenIds.contains(id) { continue }
            ByteLevelAlphabet.appendBytes(of: token, to: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
