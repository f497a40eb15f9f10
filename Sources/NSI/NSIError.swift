/// The version of the library (and of the `nsi` tool), semantic.
public let version = "0.1.0"

/// An error of the embedding API: what kind (stable, and the C ABI's status code) and
/// a message for people. A script's own problems are a `CompileError` instead.
public struct NSIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Int32, Sendable {
        /// A model folder could not be loaded.
        case model = 2
        /// Plan bytes were damaged or of another format version, or the plan was made for
        /// another model.
        case plan = 4
        /// A run-time param is unknown, fixed at compile time, of the wrong type, or
        /// malformed.
        case param = 5
        /// The run stopped on a value of its own: an index out of range, shapes that do
        /// not broadcast, an empty prompt.
        case run = 6
        /// The run was cancelled.
        case cancelled = 7
        /// The run passed one of its limits (`Limits`): its deadline, memory, generated
        /// tokens, instructions, or the model's positions; the message says which.
        case limit = 8
        /// A bug in nsi itself.
        case `internal` = 9
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
