import NSIIR
import NSITensor

/// A plan as the file holds it: pools, tables and code with operands as pool indices and
/// register numbers. The decoder fills one from bytes, the verifier checks it, and only
/// then is it raised to a `Program`; the encoder lowers a `Program` to one.
struct Plan: Equatable {
    var signatureHash: String
    var strings: [String] = []
    var ints: [Int] = []
    /// Bit patterns, so -0.0 and NaN payloads survive.
    var floats: [UInt64] = []
    var tensors: [PlanTensor] = []
    var values: [PlanValue] = []
    var types: [PlanType] = []
    var params: [PlanParam] = []
    var saves: [PlanSave] = []
    var blocks: [PlanBlock] = []
    var code: [PlanInstruction] = []
    /// The line table: one span per instruction.
    var spans: [SourceSpan] = []
}

struct PlanTensor: Hashable {
    var shape: [Int]
    /// f32 bit patterns.
    var data: [UInt32]
}

/// An entry of the value pool: scalars point into the int, float and string pools; a
/// list names earlier entries only, so lists are acyclic and their depth is bounded.
enum PlanValue: Hashable {
    case int(Int)
    case float(Int)
    case bool(Bool)
    case str(Int)
    case list([Int])
}

/// A dimension: a number, or a symbol (string pool index).
enum PlanDim: Hashable {
    case known(Int)
    case symbol(Int)
}

/// An entry of the type pool; lists name earlier entries.
enum PlanType: Hashable {
    case int, float, bool, str
    case tensor(DType, [PlanDim])
    case strings(Int)
    case topk([PlanDim])
    case list([Int])
}

struct PlanParam: Equatable {
    var name: Int
    var type: Int
    var binding: ParamBinding
    var value: Int?
    var tensor: Int?
    var span: SourceSpan
}

struct PlanSave: Equatable {
    var key: Int
    var type: Int
    var span: SourceSpan
}

struct PlanInvoke: Equatable {
    var prompts: [Int]?
    var promptParam: Int?
    var rows: Int
    var span: SourceSpan
}

enum PlanBlockKind: Equatable {
    case trace
    /// Temperature and top-p as f64 bit patterns.
    case generate(maxTokens: Int, temperature: UInt64, topK: Int?, topP: UInt64?, seed: Int)
}

struct PlanBlock: Equatable {
    var kind: PlanBlockKind
    var invokes: [PlanInvoke]
    var span: SourceSpan
}

/// One index item: registers, as in `IndexItem`.
enum PlanIndexItem: Hashable {
    case at(Int)
    case gather(Int)
    case slice(Int?, Int?, Int?)

    var registers: [Int] {
        switch self {
        case .at(let r), .gather(let r): return [r]
        case .slice(let a, let b, let c): return [a, b, c].compactMap { $0 }
        }
    }
}

/// A decoded operand; which case an operand has follows from its kind in the table.
enum Operand: Hashable {
    /// Registers, pool indices, ids, numbers, function codes, flags.
    case int(Int)
    /// An absent optional axis.
    case none
    case registers([Int])
    case index([PlanIndexItem])
    case shape([PlanDim])
}

struct PlanAnchor: Equatable, Scheduled {
    /// -1 for instructions outside every block.
    var block: Int
    var invoke: Int?
    var phase: Phase
    var steps: StepSet
    var guardValue: Int?
}

struct PlanInstruction: Equatable {
    var opcode: Opcode
    var operands: [Operand]
    /// Type pool index; nil for effects.
    var type: Int?
    var anchor: PlanAnchor
    /// Byte offset in the code section (for errors and listings).
    var offset: Int = 0

    /// Every register the instruction reads, in operand order.
    var registers: [Int] {
        var out: [Int] = []
        for (spec, operand) in zip(opcode.info.operands, operands) {
            switch (spec.kind, operand) {
            case (.reg, .int(let r)): out.append(r)
            case (.registers, .registers(let rs)): out += rs
            case (.index, .index(let items)): out += items.flatMap(\.registers)
            default: break
            }
        }
        return out
    }
}

extension Plan {
    func describe(_ t: PlanType) -> String {
        switch t {
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .str: return "str"
        case .tensor(let d, let dims): return "\(d.rawValue)[" + dims.map(describe).joined(separator: ", ") + "]"
        case .strings(let n): return "str[\(n)]"
        case .topk(let dims): return "topk pair of f32[" + dims.map(describe).joined(separator: ", ") + "]"
        case .list(let items): return "list of \(items.count)"
        }
    }

    func describe(_ d: PlanDim) -> String {
        switch d {
        case .known(let n): return String(n)
        case .symbol(let s): return s >= 0 && s < strings.count ? strings[s] : "?"
        }
    }
}
