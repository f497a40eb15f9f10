import NSITensor

/// The kinds of instruction, one per `Op` case. The raw value is the opcode byte of
/// plans (docs/bytecode.md): append only, as a renumbering changes the meaning of every
/// plan written. NSIBytecode's `Opcode` is this type.
public enum OpKind: UInt8, CaseIterable, Sendable {
    case constant = 0x01, tensorConstant, param, readPoint, tokens, resultIds, resultText, attentionMask
    case unary = 0x10, binary, index, reduce, softmax, topk, topkValues, topkIndices
    case reshape = 0x20, transpose, unsqueeze, squeeze, clone, cast, cat, stack, detach
    case select = 0x30, cosine, fill, fillLike, callModule, random, weight, update, gather, nonzero
    case write = 0x40, save, skip, backward, prompt

    public var traits: OpTraits { OpTraits.table[Int(rawValue)]! }
}

/// What every stage needs to know about a kind of op, in one row of `OpTraits.table`:
/// - `name`: its mnemonic in plan listings, the disassembler and docs;
/// - `role`: whether passes may remove or merge it (see `Role`);
/// - `aliases`: whether its result may be a view of its first operand's storage;
/// - `keepsOperands`: whether it takes its operands beyond the hook it runs in (so a view
///   it uses must be copied first);
/// - `gradient`: whether a gradient flows from its result to its tensor operands;
/// - `cost`: what running it costs, for plan dumps and admission bounds.
///
/// A kind without a row is a compile error in `row(_:)`, and `OpTableTests` checks that
/// the rows agree with what the ops are (effects have no result, aliasing ops an operand).
public struct OpTraits: Sendable {
    public enum Role: Sendable, Equatable {
        /// A function of its operands and the plan's own data: dead-code elimination may
        /// remove it and CSE may merge two alike.
        case pure
        /// Reads the running model or the run (a point's tensor, generated ids): removed
        /// when unused, merged only when nothing writes the state in between.
        case readsState
        /// Changes the model or the results: never removed, never merged.
        case effect
    }

    public enum Gradient: Sendable, Equatable {
        /// Gradients flow to its tensor operands.
        case flows
        /// Flows for some functions (`UnaryFn`/`BinaryFn`/`ReduceFn.isDifferentiable`).
        case byFunction
        /// Its result is an integer, a constant or a string: no gradient.
        case none
        /// An effect: the gradient of a write passes through the point, a save has none.
        case effect
    }

    public enum Cost: Sendable, Equatable {
        /// Nothing beyond naming a value.
        case free
        /// A copy of its result's elements.
        case copy
        /// About one operation per result element.
        case elementwise
        /// About one operation per operand element.
        case reduction
        /// `2·m·n·k` for a matmul, else elementwise (binary ops).
        case byFunction
        /// A sort-like pass over the operand (top-k).
        case selection
        /// One of the model's modules: its weights' multiply-adds per row.
        case module
    }

    public let kind: OpKind
    public let name: String
    public let role: Role
    public let aliases: Bool
    public let keepsOperands: Bool
    public let gradient: Gradient
    public let cost: Cost

    /// The table, indexed by opcode byte.
    static let table: [OpTraits?] = {
        var out = [OpTraits?](repeating: nil, count: 256)
        for k in OpKind.allCases { out[Int(k.rawValue)] = row(k) }
        return out
    }()

    // swiftlint:disable:next cyclomatic_complexity
    static func row(_ k: OpKind) -> OpTraits {
        func r(_ name: String, _ role: Role, aliases: Bool = false, keeps: Bool = false, _ gradient: Gradient, _ cost: Cost) -> OpTraits {
            OpTraits(kind: k, name: name, role: role, aliases: aliases, keepsOperands: keeps, gradient: gradient, cost: cost)
        }
        switch k {
        //                              name           role         view            gradient     cost
        case .constant:       return r("const",        .pure,                       .none,       .free)
        case .tensorConstant: return r("tensor",       .pure,                       .none,       .free)
        case .param:          return r("param",        .pure,                       .none,       .free)
        case .readPoint:      return r("read",         .readsState,                 .flows,      .copy)
        case .tokens:         return r("tokens",       .pure,                       .none,       .elementwise)
        case .resultIds:      return r("result.ids",   .readsState,                 .none,       .copy)
        case .resultText:     return r("result.text",  .readsState,                 .none,       .copy)
        case .attentionMask:  return r("mask",         .readsState,                 .none,       .copy)
        case .unary:          return r("unary",        .pure,                       .byFunction, .elementwise)
        case .binary:         return r("binary",       .pure,                       .byFunction, .byFunction)
        case .index:          return r("index",        .pure,       aliases: true,  .flows,      .copy)
        case .reduce:         return r("reduce",       .pure,                       .byFunction, .reduction)
        case .softmax:        return r("softmax",      .pure,                       .flows,      .elementwise)
        case .topk:           return r("topk",         .pure,                       .flows,      .selection)
        case .topkValues:     return r("topk.values",  .pure,                       .flows,      .free)
        case .topkIndices:    return r("topk.indices", .pure,                       .none,       .free)
        case .reshape:        return r("reshape",      .pure,       aliases: true,  .flows,      .free)
        case .transpose:      return r("transpose",    .pure,       aliases: true,  .flows,      .free)
        case .unsqueeze:      return r("unsqueeze",    .pure,       aliases: true,  .flows,      .free)
        case .squeeze:        return r("squeeze",      .pure,       aliases: true,  .flows,      .free)
        case .clone:          return r("clone",        .pure,                       .flows,      .copy)
        case .cast:           return r("cast",         .pure,       aliases: true,  .byFunction, .copy)
        case .cat:            return r("cat",          .pure,                       .flows,      .copy)
        case .stack:          return r("stack",        .pure,                       .flows,      .copy)
        case .select:         return r("where",        .pure,                       .flows,      .elementwise)
        case .cosine:         return r("cosine",       .pure,                       .flows,      .reduction)
        case .fill:           return r("fill",         .pure,                       .none,       .elementwise)
        case .fillLike:       return r("fill.like",    .pure,                       .none,       .elementwise)
        case .callModule:     return r("call",         .pure,                       .flows,      .module)
        case .random:         return r("random",       .pure,                       .none,       .elementwise)
        case .weight:         return r("weight",       .pure,                       .none,       .copy)
        case .update:         return r("update",       .pure,                       .flows,      .copy)
        case .gather:         return r("gather",       .pure,                       .flows,      .copy)
        case .nonzero:        return r("nonzero",      .pure,                       .none,       .elementwise)
        case .write:          return r("write",        .effect,     keeps: true,    .effect,     .elementwise)
        case .save:           return r("save",         .effect,     keeps: true,    .effect,     .copy)
        case .skip:           return r("skip",         .effect,                     .effect,     .free)
        case .detach:         return r("detach",       .pure,       aliases: true,  .none,       .free)
        case .backward:       return r("backward",     .effect,     keeps: true,    .effect,     .module)
        case .prompt:         return r("prompt",       .effect,                     .effect,     .free)
        }
    }
}

extension Op {
    /// The op's kind: its row of the op table.
    public var kind: OpKind {
        switch self {
        case .constant: return .constant
        case .tensorConstant: return .tensorConstant
        case .param: return .param
        case .readPoint: return .readPoint
        case .tokens: return .tokens
        case .resultIds: return .resultIds
        case .resultText: return .resultText
        case .attentionMask: return .attentionMask
        case .unary: return .unary
        case .binary: return .binary
        case .index: return .index
        case .reduce: return .reduce
        case .softmax: return .softmax
        case .topk: return .topk
        case .topkValues: return .topkValues
        case .topkIndices: return .topkIndices
        case .reshape: return .reshape
        case .transpose: return .transpose
        case .unsqueeze: return .unsqueeze
        case .squeeze: return .squeeze
        case .clone: return .clone
        case .cast: return .cast
        case .cat: return .cat
        case .stack: return .stack
        case .select: return .select
        case .cosine: return .cosine
        case .fill: return .fill
        case .fillLike: return .fillLike
        case .callModule: return .callModule
        case .random: return .random
        case .weight: return .weight
        case .update: return .update
        case .gatherAlong: return .gather
        case .nonzero: return .nonzero
        case .write: return .write
        case .save: return .save
        case .skip: return .skip
        case .detach: return .detach
        case .backward: return .backward
        case .prompt: return .prompt
        }
    }

    public var traits: OpTraits { kind.traits }

    /// Effects change the model or the results; everything else only computes a value.
    public var isEffect: Bool { traits.role == .effect }

    /// The operand whose storage the result may share (a view of it).
    public var aliasedOperand: ValueID? { traits.aliases ? operands.first : nil }

    /// Whether a gradient flows from the result to the tensor operands.
    public var isDifferentiable: Bool {
        switch traits.gradient {
        case .flows: return true
        case .none, .effect: return false
        case .byFunction:
            switch self {
            case .unary(let f, _): return f.isDifferentiable
            case .binary(let f, _, _): return f.isDifferentiable
            case .reduce(let f, _, _, _): return f.isDifferentiable
            case .cast(_, let t): return t.isFloatingPoint
            default: return true
            }
        }
    }

    /// The name a listing shows: the mnemonic, or what it specializes to (the function of
    /// `unary`/`binary`/`reduce`, `log_softmax`, the param, module or key named).
    /// `module` names a skipped module by id.
    public func label(module: (Int) -> String = { "module \($0)" }) -> String {
        switch self {
        case .param(let n): return "param \(n)"
        case .unary(let f, _): return f.rawValue
        case .binary(let f, _, _): return f.rawValue
        case .reduce(let f, _, _, _): return f.rawValue
        case .softmax(_, _, let log): return log ? "log_softmax" : "softmax"
        case .callModule(let m, _): return "call \(m)"
        case .write(_, _, let fn, _): return fn == .set ? "write" : "write \(fn.rawValue)"
        case .update(_, _, let fn, _): return fn == .set ? "update" : "update \(fn.rawValue)"
        case .save(let key, _): return "save \(key)"
        case .skip(let m): return "skip \(module(m))"
        default: return traits.name
        }
    }
}

extension UnaryFn {
    /// `not` is boolean; every other function has a derivative almost everywhere.
    public var isDifferentiable: Bool { self != .not }
}

extension BinaryFn {
    /// Arithmetic and matmul carry gradients; comparisons, `and`, `or` and `%`'s
    /// divisor do not (`%` carries one to its dividend only, and counts as carrying one).
    public var isDifferentiable: Bool {
        switch self {
        case .add, .sub, .mul, .div, .mod, .pow, .matmul: return true
        case .eq, .ne, .lt, .le, .gt, .ge, .and, .or: return false
        }
    }
}

extension ReduceFn {
    /// `argmax` and `argmin` give indices.
    public var isDifferentiable: Bool { self != .argmax && self != .argmin }
}
