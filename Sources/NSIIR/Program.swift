import NSITensor

/// Where in the script something was written: byte offsets and the 1-based line and
/// column of the start (the line table of a plan).
public struct SourceSpan: Hashable, Sendable {
    public var start: Int
    public var end: Int
    public var line: Int
    public var column: Int

    public init(start: Int, end: Int, line: Int, column: Int) {
        self.start = start
        self.end = end
        self.line = line
        self.column = column
    }
}

/// An SSA value of the intervention graph.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
    public var description: String { "%\(index)" }
}

/// When, within one forward pass, a value exists: before the pass (constants, params,
/// earlier blocks), at an access point (by id, in forward order), at a point's gradient
/// in the reverse pass (after the forward pass, in reverse point order), or after the
/// pass (generation results).
public enum Phase: Hashable, Comparable, Sendable, CustomStringConvertible {
    case before
    case point(Int)
    /// The reverse pass reaching a point: its gradient is known. Later points come first.
    case grad(Int)
    case after

    private var order: (Int, Int) {
        switch self {
        case .before: return (0, 0)
        case .point(let p): return (1, p)
        case .grad(let p): return (2, -p)
        case .after: return (3, 0)
        }
    }

    public static func < (a: Phase, b: Phase) -> Bool { a.order < b.order }

    /// The point this phase is at, forward or reverse.
    public var point: Int? {
        switch self {
        case .point(let p), .grad(let p): return p
        case .before, .after: return nil
        }
    }

    public var description: String {
        switch self {
        case .before: return "before"
        case .point(let p): return "@\(p)"
        case .grad(let p): return "grad @\(p)"
        case .after: return "after"
        }
    }
}

/// The forward passes of a block an instruction runs in: step 0 is the prompt pass (the
/// only one of a trace); steps 1... are generated tokens.
public enum StepSet: Hashable, Sendable, CustomStringConvertible {
    case only(Int)
    /// `lower..<upper`; `upper` nil means every step from `lower` on.
    case range(Int, Int?)

    public static let prompt = StepSet.only(0)
    public static let all = StepSet.range(0, nil)

    public func contains(_ step: Int) -> Bool {
        switch self {
        case .only(let s): return s == step
        case .range(let lo, let hi): return step >= lo && (hi.map { step < $0 } ?? true)
        }
    }

    public var first: Int {
        switch self {
        case .only(let s): return s
        case .range(let lo, _): return lo
        }
    }

    /// Whether some step is in both sets.
    public func overlaps(_ other: StepSet) -> Bool {
        func bounds(_ s: StepSet) -> (Int, Int) {
            switch s {
            case .only(let n): return (n, n + 1)
            case .range(let lo, let hi): return (lo, hi ?? Int.max)
            }
        }
        let (a, b) = bounds(self), (c, d) = bounds(other)
        return a < d && c < b
    }

    public var isSingle: Bool {
        switch self {
        case .only: return true
        case .range(let lo, let hi): return hi == lo + 1
        }
    }

    public var description: String {
        switch self {
        case .only(let s): return "step \(s)"
        case .range(let lo, let hi): return hi.map { "steps \(lo)..<\($0)" } ?? (lo == 0 ? "each step" : "steps \(lo)...")
        }
    }
}

/// Elementwise functions of one value.
public enum UnaryFn: String, Sendable, CaseIterable {
    case neg, not, abs, exp, log, sqrt, relu, sigmoid, tanh
}

/// Elementwise functions of two values (broadcasting).
public enum BinaryFn: String, Sendable, CaseIterable {
    case add, sub, mul, div, mod, pow, matmul
    case eq, ne, lt, le, gt, ge, and, or
}

public enum ReduceFn: String, Sendable, CaseIterable {
    case sum, mean, max, min, argmax, argmin, norm
}

/// One entry of an index expression, after `...` is expanded: one per indexed dimension.
public enum IndexItem: Hashable, Sendable, CustomStringConvertible {
    /// A single position (removes the dimension); the value is an int scalar.
    case at(ValueID)
    /// Integer tensor indexing along this dimension.
    case gather(ValueID)
    /// `lower:upper:step`, each optional; values are int scalars.
    case slice(ValueID?, ValueID?, ValueID?)

    public var description: String {
        switch self {
        case .at(let v): return v.description
        case .gather(let v): return "gather(\(v))"
        case .slice(let a, let b, let c):
            return (a?.description ?? "") + ":" + (b?.description ?? "") + (c.map { ":\($0)" } ?? "")
        }
    }
}

public enum AssignFn: String, Sendable {
    case set, add, sub, mul, div
}

/// What an instruction does.
public enum Op: Hashable, Sendable {
    case constant(ConstValue)
    /// A tensor constant (`load`, literals): shape and f32 data.
    case tensorConstant(shape: [Int], data: [Float])
    /// A param bound when the plan runs.
    case param(String)
    /// The tensor at an access point, for the invoke's rows.
    case readPoint(Int)
    /// Token ids of a string (`toks` of a run-time string).
    case tokens(ValueID)
    case resultIds
    case resultText
    /// The invoke's attention mask over its prompt (`model.attention_mask`): i64[rows, T],
    /// 1 on tokens and 0 on the left padding of rows shorter than the longest.
    case attentionMask
    case unary(UnaryFn, ValueID)
    case binary(BinaryFn, ValueID, ValueID)
    case index(ValueID, [IndexItem])
    case reduce(ReduceFn, ValueID, dim: Int?, keepdim: Bool)
    case softmax(ValueID, dim: Int, log: Bool)
    case topk(ValueID, k: Int, dim: Int)
    case topkValues(ValueID)
    case topkIndices(ValueID)
    case reshape(ValueID, [ShapeDim])
    case transpose(ValueID, Int, Int)
    case unsqueeze(ValueID, Int)
    case squeeze(ValueID, Int?)
    case clone(ValueID)
    case cast(ValueID, DType)
    case cat([ValueID], dim: Int)
    case stack([ValueID], dim: Int)
    case select(ValueID, ValueID, ValueID)
    case cosine(ValueID, ValueID, dim: Int)
    case fill(shape: [ShapeDim], value: Double)
    case fillLike(ValueID, value: Double)
    /// A tensor drawn from the project's seeded generator (`randn`, `rand`, `randint`).
    case random(shape: [ShapeDim], RandomDistribution, seed: Int)
    /// A weight of the model, by canonical name (`norm.weight`), as f32.
    case weight(String)
    /// A copy of a value with an indexed region changed (`f[..., 7] = 0` on a `let`):
    /// positions and slices, as a write takes. The value itself is left as it was.
    case update(ValueID, index: [IndexItem], fn: AssignFn, value: ValueID)
    /// `torch.gather`: out[i][j] = a[i][index[i][j]] along `dim` (here 1); the index has
    /// a's rank and is no larger than a outside `dim`.
    case gatherAlong(ValueID, dim: Int, index: ValueID)
    /// The positions where a tensor is nonzero (true): i64[N, rank] in row-major order,
    /// N known when the plan runs (`x[mask]`).
    case nonzero(ValueID)
    /// A pure module of the model applied to a value (`model.norm(h)`).
    case callModule(String, ValueID)
    /// Writes into the running model at a point, for the invoke's rows.
    case write(point: Int, index: [IndexItem], fn: AssignFn, value: ValueID)
    case save(key: String, ValueID)
    case skip(module: Int)
    /// The value with no gradient: the reverse pass treats it as a constant.
    case detach(ValueID)
    /// Starts the invoke's reverse pass from a scalar. A `readPoint` or `write` at
    /// `.grad(p)` reads or changes the gradient flowing back through point p.
    case backward(ValueID)
    /// Names the invoke's prompt: a str, or token ids i64[T] / [rows, T], computed before
    /// the block (outside blocks or in an earlier one). The VM reads it when the block is set up.
    case prompt(ValueID)
}

/// Where an instruction belongs: which block, which invoke (rows), when in the forward
/// pass, at which steps, and (inside a runtime `if`) under which condition.
public struct Anchor: Hashable, Sendable {
    public var block: Int
    public var invoke: Int?
    public var phase: Phase
    public var steps: StepSet
    public var guardValue: ValueID?

    public init(block: Int, invoke: Int?, phase: Phase, steps: StepSet, guardValue: ValueID?) {
        self.block = block
        self.invoke = invoke
        self.phase = phase
        self.steps = steps
        self.guardValue = guardValue
    }
}

public struct Instruction: Hashable, Sendable {
    public let id: ValueID
    public let op: Op
    /// nil for effects (write, save, skip).
    public let type: ValueType?
    public let anchor: Anchor
    public let range: SourceSpan

    public init(id: ValueID, op: Op, type: ValueType?, anchor: Anchor, range: SourceSpan) {
        self.id = id
        self.op = op
        self.type = type
        self.anchor = anchor
        self.range = range
    }
}

/// One invoke: the rows it adds to its trace's batch. Its prompts are compile-time
/// strings, a str param, or (both nil) the value of the invoke's `prompt` instruction.
public struct Invoke: Hashable, Sendable {
    /// Compile-time prompts, or nil when they come from a run-time param or value.
    public var prompts: [String]?
    /// The param giving the prompt at run time.
    public var promptParam: String?
    public var rows: Int
    public var range: SourceSpan

    public init(prompts: [String]?, promptParam: String?, rows: Int, range: SourceSpan) {
        self.prompts = prompts
        self.promptParam = promptParam
        self.rows = rows
        self.range = range
    }
}

extension Invoke {
    /// The rows a prompt value gives: a str one, a `str[n]` (`result.text`) n, integer token
    /// ids `[T]` one and `[rows, T]` `rows` (known when compiling); nil for anything else.
    /// The checker and both verifiers apply this rule; the value must also be computed before
    /// the block (outside every block, or in an earlier one).
    public static func promptRows(isString: Bool, strings: Int? = nil, integerDims: [Int?]?) -> Int? {
        if isString { return 1 }
        if let strings { return strings > 0 ? strings : nil }
        guard let dims = integerDims else { return nil }
        switch dims.count {
        case 1: return 1
        case 2: return dims[0]
        default: return nil
        }
    }
}

public enum BlockKind: Hashable, Sendable {
    case trace
    case generate(GenerateOptions)
}

public struct GenerateOptions: Hashable, Sendable {
    public var maxTokens: Int
    public var temperature: Double
    public var topK: Int?
    public var topP: Double?
    public var seed: Int

    public init(maxTokens: Int, temperature: Double, topK: Int?, topP: Double?, seed: Int) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }
}

public struct ProgramBlock: Hashable, Sendable {
    public var kind: BlockKind
    public var invokes: [Invoke]
    public var range: SourceSpan

    public init(kind: BlockKind, invokes: [Invoke], range: SourceSpan) {
        self.kind = kind
        self.invokes = invokes
        self.range = range
    }
}

/// How a param is bound: fixed when compiling (it shapes the plan) or given when running.
public enum ParamBinding: String, Sendable {
    case compileTime = "compile time"
    case runTime = "run time"
}

public struct ParamInfo: Sendable {
    public var name: String
    public var type: ValueType
    public var binding: ParamBinding
    public var value: ConstValue?
    /// A tensor default (`load(...)`), as shape and data.
    public var tensorDefault: (shape: [Int], data: [Float])?
    public var range: SourceSpan

    public init(name: String, type: ValueType, binding: ParamBinding, value: ConstValue?, tensorDefault: (shape: [Int], data: [Float])?, range: SourceSpan) {
        self.name = name
        self.type = type
        self.binding = binding
        self.value = value
        self.tensorDefault = tensorDefault
        self.range = range
    }
}

/// A saved result: its key in the results file, type and where it was saved.
public struct SaveInfo: Sendable, Equatable {
    public var key: String
    public var type: ValueType
    public var range: SourceSpan

    public init(key: String, type: ValueType, range: SourceSpan) {
        self.key = key
        self.type = type
        self.range = range
    }
}

/// The checked program as an intervention graph: blocks with their invokes, and
/// instructions in source order, each with its anchor.
public struct Program: Sendable {
    public var params: [ParamInfo]
    public var blocks: [ProgramBlock]
    public var instructions: [Instruction]
    public var saves: [SaveInfo]
    public var signatureHash: String

    public init(params: [ParamInfo], blocks: [ProgramBlock], instructions: [Instruction], saves: [SaveInfo], signatureHash: String) {
        self.params = params
        self.blocks = blocks
        self.instructions = instructions
        self.saves = saves
        self.signatureHash = signatureHash
    }
}

extension Program {
    /// Whether some trace runs a reverse pass (`backward`).
    public var hasBackward: Bool { instructions.contains { $0.op.kind == .backward } }
}
