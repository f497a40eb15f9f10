import NSIModel
import Foundation
import NSITensor
import NSITokenizer

/// A model folder loaded for use: the transformer and, when the folder has one, its
/// tokenizer. Loading checks the folder's shape first so a wrong path gets a clear error.
public final class LanguageModel: @unchecked Sendable {
    public let directory: String
    public let transformer: Transformer
    public let tokenizer: Tokenizer?
    /// What scripts are checked against; plans carry its hash.
    public let signature: ModelSignature

    public init(directory: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw RuntimeError(.modelFolder, "model folder \(directory) does not exist (expected a Hugging Face folder with config.json, model.safetensors and tokenizer.json)")
        }
        guard FileManager.default.fileExists(atPath: directory + "/config.json") else {
            throw RuntimeError(.modelFolder, "\(directory) has no config.json (expected a Hugging Face model folder)")
        }
        self.directory = directory
        transformer = try Transformer(directory: directory)
        let tokenizerPath = directory + "/tokenizer.json"
        let bytes = FileManager.default.contents(atPath: tokenizerPath)
        tokenizer = try bytes.map { try Tokenizer(data: $0, source: tokenizerPath) }
        signature = ModelSignature(config: transformer.config, tokenizer: tokenizer, tokenizerBytes: bytes)
    }

    public func requireTokenizer() throws -> Tokenizer {
        guard let tokenizer else { throw RuntimeError(.modelFolder, "\(directory) has no tokenizer.json; text prompts need one") }
        return tokenizer
    }

    /// Token ids of a prompt as the model's tokenizer adds special tokens for it.
    public func encode(_ text: String) throws -> [Int] {
        let ids = try requireTokenizer().encode(text, addSpecialTokens: true)
        guard !ids.isEmpty else { throw RuntimeError(.input, "the prompt \"\(text)\" has no tokens") }
        return ids
    }

    public func decode(_ ids: [Int]) throws -> String { try requireTokenizer().decode(ids, skipSpecialTokens: false) }
}
