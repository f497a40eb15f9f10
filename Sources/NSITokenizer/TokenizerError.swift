/// Why a tokenizer file could not be loaded. The description names the file and the
/// problem so that a message printed as is tells the user what to fix.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file does not exist or cannot be read.
        case unreadable
        /// The file is not valid JSON (truncated, stray characters, bad UTF-8).
        case malformedJSON
        /// Valid JSON that uses a model, pre-tokenizer, normalizer, pattern, post-processor
        /// or decoder this module does not implement.
        case unsupported
        /// Valid JSON whose content is inconsistent or missing (unknown tokens in merges,
        /// ids out of range, wrong value types).
        case invalid
    }

    public let kind: Kind
    /// The file (or the caller-supplied source name) the error is about.
    public let source: String
    public let message: String

    public init(_ kind: Kind, source: String, _ message: String) {
        self.kind = kind
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(message)" }
}
