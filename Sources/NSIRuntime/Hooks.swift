import NSIModel
import NSITensor

/// Where a hook runs: which point, and which forward pass of a generation (0 is the prompt).
public struct HookContext: Sendable {
    public let point: Point
    public let step: Int
}

/// A hook reads the whole batch's tensor at a point. It may write into it in place, or
/// return a replacement of the same shape (nil keeps the tensor). The tensor is only
/// valid during the call: a hook that keeps a value copies it.
public typealias PointHook = (Tensor, HookContext) throws -> Tensor?

/// The hooks of one run, indexed densely by point and module id so that a point
/// without a hook costs one array lookup.
public final class Hooks {
    public private(set) var handlers: [PointHook?]
    public var skipModule: [Bool]
    /// The forward pass ends right after this point (nothing later is computed).
    public var stopAfter: Int?
    /// Per row: the positions of the logits the hooks use (nil: any). When every row says,
    /// a pass that returns no logits runs the output head at those positions only, and
    /// the hooks see zeros at the others.
    public var logitPositions: [[Int]?]?
    /// Set by a pass that shared prefixes between rows: what it computed.
    public var sharingReport: SharingReport?
    /// A trace pass that records its work for a reverse pass (see `Tape`): rows are not
    /// shared and every logit is computed.
    public var tape: Tape?

    public init(points: PointTable) {
        handlers = Array(repeating: nil, count: points.points.count)
        skipModule = Array(repeating: false, count: points.modules.count)
    }

    /// Adds a hook at a point; several hooks at one point run in the order added.
    public func add(point: Int, _ hook: @escaping PointHook) {
        if let previous = handlers[point] {
            handlers[point] = { t, ctx in
                let first = try previous(t, ctx) ?? t
                return try hook(first, ctx) ?? first
            }
        } else {
            handlers[point] = hook
        }
    }

    public func isHooked(_ point: Int) -> Bool { handlers[point] != nil }
}

/// Errors while loading or running the model: what failed, and a message for people.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The model folder lacks a file a request needs (config.json, tokenizer.json).
        case modelFolder
        /// What the caller gave does not fit the model: an empty prompt, a token id out of
        /// the vocabulary, a hook's result of the wrong shape, a module that is not callable.
        case input
        /// More positions than the model has, or than the cache holds.
        case positions
        /// More memory than the run may use (the activations a reverse pass keeps).
        case memory
        /// A bug in nsi: a caller inside nsi broke the runtime's contract.
        case `internal`
    }

    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// Thrown inside the forward pass to end it after the last point anything needs.
struct StopForward: Error {}
