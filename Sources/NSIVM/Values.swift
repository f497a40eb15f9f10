import NSIIR
import NSIRuntime
import NSITensor

/// A value in a VM register.
public enum RunValue: @unchecked Sendable {
    case tensor(Tensor)
    case int(Int)
    case float(Double)
    case bool(Bool)
    case str(String)
    case strings([String])
    case topk(values: Tensor, indices: Tensor)

    /// As a tensor (scalars become rank-0 tensors of their type).
    public var tensor: Tensor? {
        switch self {
        case .tensor(let t): return t
        case .int(let i): return Tensor(shape: [], int64s: [Int64(i)])
        case .float(let f): return Tensor(scalar: Float(f))
        case .bool(let b): return Tensor(scalar: b ? 1 : 0).cast(to: .bool)
        default: return nil
        }
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .tensor(let t) where t.count == 1 && (t.dtype == .i32 || t.dtype == .i64): return t.toInts()[0]
        default: return nil
        }
    }

    var truth: Bool? {
        switch self {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let f): return f != 0
        case .tensor(let t) where t.count == 1: return t.toFloats()[0] != 0
        default: return nil
        }
    }

    /// Bytes held, for the memory limit.
    var bytes: Int {
        switch self {
        case .tensor(let t): return t.count * t.dtype.size
        case .topk(let v, let i): return v.count * 4 + i.count * 8
        case .str(let s): return s.utf8.count
        case .strings(let s): return s.reduce(0) { $0 + $1.utf8.count }
        default: return 8
        }
    }

    static func from(_ c: ConstValue) -> RunValue {
        switch c {
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .bool(let b): return .bool(b)
        case .str(let s): return .str(s)
        case .list(let items):
            if items.allSatisfy({ if case .str = $0 { return true }; return false }) {
                return .strings(items.compactMap { if case .str(let s) = $0 { return s }; return nil })
            }
            let flat = flatten(c)
            let shape = shapeOf(c)
            if items.allSatisfy({ if case .int = $0 { return true }; if case .list = $0 { return true }; return false }) && flat.allSatisfy({ $0 == $0.rounded() }) && isIntList(c) {
                return .tensor(Tensor(shape: shape, int64s: flat.map { Int64($0) }))
            }
            return .tensor(Tensor(shape: shape, floats: flat.map(Float.init)))
        }
    }

    private static func flatten(_ c: ConstValue) -> [Double] {
        if case .list(let items) = c { return items.flatMap(flatten) }
        return [c.numberValue ?? 0]
    }

    private static func shapeOf(_ c: ConstValue) -> [Int] {
        if case .list(let items) = c { return [items.count] + (items.first.map(shapeOf) ?? []) }
        return []
    }

    private static func isIntList(_ c: ConstValue) -> Bool {
        switch c {
        case .int: return true
        case .list(let items): return items.allSatisfy(isIntList)
        default: return false
        }
    }
}

/// A run-time problem, with the script location of the instruction that met it.
/// Why a run stopped: what failed (`kind`, for hosts to act on), a message for people
/// and, for the plan's own mistakes, where in the script.
public struct VMError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A bound of `VMLimits` was passed.
        case limit(VMLimit)
        /// The run's cancellation token was triggered.
        case cancelled
        /// A run-time param is missing, unknown or of the wrong type or shape.
        case param
        /// The plan was made for another model, or cannot join the batch it came with.
        case mismatch
        /// A value the plan computed does not fit its use: an index out of range, shapes
        /// that do not broadcast, an empty reduction, a prompt with no tokens.
        case input
        /// A bug in nsi: the verifier should have refused what happened.
        case `internal`
    }

    public let kind: Kind
    public let message: String
    public let span: SourceSpan?
    public init(_ kind: Kind, _ message: String, span: SourceSpan? = nil) {
        self.kind = kind
        self.message = message
        self.span = span
    }
    public var description: String {
        guard let s = span else { return message }
        return "\(s.line):\(s.column): \(message)"
    }

    /// The run-time error's stable code (docs/language.md, "Run-time errors"), for
    /// diagnostics rendered like the checker's.
    public var code: String {
        switch kind {
        case .limit: return "E0701"
        case .cancelled: return "E0702"
        case .param: return "E0703"
        case .mismatch: return "E0704"
        case .input: return "E0705"
        case .internal: return "E0706"
        }
    }

    /// Any error a run meets, as a `VMError`: the runtime's kinds map to the run's, and
    /// an error of no known kind is internal (its message kept).
    public init(wrapping error: any Error, span: SourceSpan? = nil) {
        switch error {
        case let e as VMError:
            self = e
        case let e as RuntimeError:
            let kind: Kind
            switch e.kind {
            case .modelFolder, .input: kind = .input
            case .positions: kind = .limit(.positions)
            case .memory: kind = .limit(.registerBytes)
            case .internal: kind = .internal
            }
            self.init(kind, e.message, span: span)
        default:
            self.init(.internal, "\(error)", span: span)
        }
    }
}

/// The bound of `VMLimits` a run passed.
public enum VMLimit: String, Sendable {
    case savedBytes = "saved bytes", registerBytes = "register bytes", generatedTokens = "generated tokens"
    case instructions, deadline
    /// The model's positions (or the cache's): a prompt or generation too long.
    case positions
}

/// Bounds a run may not pass; each has its own error.
public struct VMLimits: Sendable {
    /// Bytes of saved results.
    public var maxSavedBytes: Int
    /// Bytes held in registers at once.
    public var maxRegisterBytes: Int
    public var maxGeneratedTokens: Int
    public var maxInstructions: Int
    /// Seconds of wall-clock time for the whole run.
    public var deadline: Double?

    public init(maxSavedBytes: Int = 1 << 30, maxRegisterBytes: Int = 4 << 30, maxGeneratedTokens: Int = 4096,
                maxInstructions: Int = 50_000_000, deadline: Double? = nil) {
        self.maxSavedBytes = maxSavedBytes
        self.maxRegisterBytes = maxRegisterBytes
        self.maxGeneratedTokens = maxGeneratedTokens
        self.maxInstructions = maxInstructions
        self.deadline = deadline
    }
}
