import NSIIR
import NSITensor

/// An instruction's opcode byte is its IR op kind (`OpKind`, whose raw values are the
/// bytes): the kind's traits (name, role, aliasing, gradient, cost) live in NSIIR's op
/// table, and this file adds what plans need of it.
public typealias Opcode = OpKind

/// The wire half of the op table: for each kind its operands in wire order (each with a
/// kind that says how it is encoded, checked and printed), its result and one line on its
/// effect, for the encoder, the decoder, the verifier, the disassembler and
/// docs/bytecode.md. `R` is the instruction's own register, `R[a]` an earlier one; `K`,
/// `T`, `F` and `S` are the value, tensor, float and string pools.
public struct OpcodeInfo: Sendable {
    public let opcode: Opcode
    public let operands: [OperandSpec]
    public let result: ResultKind
    public let effect: String

    /// The mnemonic, from the op table.
    public var name: String { opcode.traits.name }

    init(_ opcode: Opcode, _ operands: [OperandSpec], _ result: ResultKind, _ effect: String) {
        self.opcode = opcode
        self.operands = operands
        self.result = result
        self.effect = effect
    }

    /// The table indexed by opcode byte.
    static let byRawValue: [OpcodeInfo?] = {
        var out = [OpcodeInfo?](repeating: nil, count: 256)
        for row in table { out[Int(row.opcode.rawValue)] = row }
        return out
    }()

    public static let table: [OpcodeInfo] = Opcode.allCases.map(row)

    private static func o(_ name: String, _ kind: OperandKind) -> OperandSpec { OperandSpec(name: name, kind: kind) }

    /// One row per kind; a kind without one does not compile.
    static func row(_ k: Opcode) -> OpcodeInfo {
        func r(_ operands: [OperandSpec], _ result: ResultKind, _ effect: String) -> OpcodeInfo { OpcodeInfo(k, operands, result, effect) }
        switch k {
        case .constant:       return r([o("k", .value)],                                                .value,  "R := K[k]: a compile-time int, float, bool, str or list")
        case .tensorConstant: return r([o("t", .tensor)],                                               .tensor, "R := T[t]: an f32 tensor constant (literal or load)")
        case .param:          return r([o("name", .string(.param))],                                    .value,  "R := the param S[name], bound when the plan runs or its default")
        case .readPoint:      return r([o("p", .point)],                                                .tensor, "R := copy of the tensor at point p, the invoke's rows (anchored at @p; at grad @p, its gradient)")
        case .tokens:         return r([o("s", .reg(.str))],                                            .tensor, "R := token ids of the string R[s] (i64[N])")
        case .resultIds:      return r([],                                                              .tensor, "R := ids the block generated, padded (i64[rows, L])")
        case .resultText:     return r([],                                                              .value,  "R := texts the block generated (str[rows])")
        case .attentionMask:  return r([],                                                              .tensor, "R := the invoke's attention mask over its prompt (i64[rows, T]: 1 on tokens, 0 on left padding)")
        case .unary:          return r([o("fn", .unaryFn), o("a", .reg(.numeric))],                    .value,  "R := fn(R[a]) elementwise")
        case .binary:         return r([o("fn", .binaryFn), o("a", .reg(.operand)), o("b", .reg(.operand))], .value, "R := fn(R[a], R[b]) elementwise with broadcasting, or matmul")
        case .index:          return r([o("a", .reg(.any)), o("ix", .index)],                          .value,  "R := R[a][ix]: one item per dimension (position, slice, integer tensor; integer tensors broadcast together, as in NumPy); of a str[n], one position gives a str")
        case .reduce:         return r([o("fn", .reduceFn), o("a", .reg(.numeric)), o("d", .optionalAxis), o("keep", .flag)], .tensor, "R := fn of R[a] over dimension d (every element when absent)")
        case .softmax:        return r([o("a", .reg(.numeric)), o("d", .axis), o("log", .flag)],       .tensor, "R := softmax (log-softmax when log) of R[a] along d")
        case .topk:           return r([o("a", .reg(.numeric)), o("k", .count), o("d", .axis)],        .topk,   "R := the k largest entries of R[a] along d: values and indices")
        case .topkValues:     return r([o("a", .reg(.topk))],                                           .tensor, "R := the values of the topk pair R[a] (f32)")
        case .topkIndices:    return r([o("a", .reg(.topk))],                                           .tensor, "R := the indices of the topk pair R[a] (i64)")
        case .reshape:        return r([o("a", .reg(.numeric)), o("shape", .shape)],                   .tensor, "R := R[a] with the elements laid out as shape")
        case .transpose:      return r([o("a", .reg(.numeric)), o("d0", .axis), o("d1", .axis)],       .tensor, "R := R[a] with dimensions d0 and d1 swapped")
        case .unsqueeze:      return r([o("a", .reg(.numeric)), o("d", .newAxis)],                     .tensor, "R := R[a] with a dimension of size 1 inserted at d")
        case .squeeze:        return r([o("a", .reg(.numeric)), o("d", .optionalAxis)],                .tensor, "R := R[a] without dimension d if it has size 1 (every size-1 one when absent)")
        case .clone:          return r([o("a", .reg(.numeric))],                                        .tensor, "R := a copy of R[a]")
        case .cast:           return r([o("a", .reg(.numeric)), o("to", .dtype)],                      .tensor, "R := R[a] converted to dtype to")
        case .cat:            return r([o("parts", .registers), o("d", .axis)],                         .tensor, "R := the tensors R[parts...] joined along d")
        case .stack:          return r([o("parts", .registers), o("d", .newAxis)],                      .tensor, "R := the tensors R[parts...] stacked along a new dimension d")
        case .select:         return r([o("c", .reg(.numeric)), o("a", .reg(.numeric)), o("b", .reg(.numeric))], .tensor, "R := where(R[c], R[a], R[b]) with broadcasting")
        case .cosine:         return r([o("a", .reg(.numeric)), o("b", .reg(.numeric)), o("d", .axis)], .tensor, "R := cosine similarity of R[a] and R[b] along d")
        case .fill:           return r([o("shape", .shape), o("v", .number)],                           .tensor, "R := an f32 tensor of shape filled with F[v]")
        case .fillLike:       return r([o("a", .reg(.numeric)), o("v", .number)],                      .tensor, "R := an f32 tensor of R[a]'s shape filled with F[v]")
        case .callModule:     return r([o("m", .string(.callable)), o("a", .reg(.numeric))],           .tensor, "R := the model's module S[m] applied to R[a]")
        case .random:         return r([o("shape", .shape), o("fn", .randomFn), o("low", .integer), o("high", .integer), o("seed", .integer)], .tensor,
                                       "R := a tensor of shape from the seeded generator: normal or uniform f32, or integers low ..< high (i64)")
        case .weight:         return r([o("w", .string(.weight))],                                      .tensor, "R := the model's weight S[w] as the checkpoint stores it, as f32")
        case .update:         return r([o("a", .reg(.numeric)), o("ix", .index), o("fn", .assignFn), o("v", .reg(.numeric))], .tensor, "R := a copy of R[a] with R[a][ix] fn= R[v] (positions and slices; R[a] is unchanged)")
        case .gather:         return r([o("a", .reg(.numeric)), o("d", .axis), o("ix", .reg(.numeric))], .tensor, "R := torch.gather(R[a], d, R[ix]): along d, the elements R[ix] names (f32, R[ix]'s shape)")
        case .nonzero:        return r([o("a", .reg(.numeric))],                                        .tensor, "R := the positions where R[a] is nonzero or true (i64[N, rank of R[a]], row-major order; N known when it runs)")
        case .write:          return r([o("p", .point), o("ix", .index), o("fn", .assignFn), o("v", .reg(.numeric))], .effect, "point p[ix] fn= R[v] for the invoke's rows (anchored at @p; at grad @p, its gradient)")
        case .save:           return r([o("key", .string(.saveKey)), o("a", .reg(.any))],              .effect, "results[S[key]] := R[a]")
        case .skip:           return r([o("m", .module)],                                               .effect, "the pass skips module m (output := input) for the invoke's rows")
        case .detach:         return r([o("a", .reg(.numeric))],                                        .tensor, "R := R[a], a constant for the reverse pass (no gradient flows through it)")
        case .prompt:         return r([o("a", .reg(.any))],                                            .effect, "the invoke's prompt is R[a]: a str, or token ids i64[T] or [rows, T] (computed before the block)")
        case .backward:       return r([o("a", .reg(.numeric))],                                        .effect, "the invoke's reverse pass starts from the scalar R[a] (reads and writes at grad @p see its gradients)")
        }
    }
}

extension OpKind {
    /// The kind's wire row.
    public var info: OpcodeInfo { OpcodeInfo.byRawValue[Int(rawValue)]! }
}

/// One operand of an opcode: a name for docs and listings, and a kind.
public struct OperandSpec: Sendable {
    public let name: String
    public let kind: OperandKind
}

/// How an operand is encoded (wire), checked (verifier) and printed (disassembler).
public enum OperandKind: Sendable, Equatable {
    /// varint: an earlier instruction's value.
    case reg(RegisterClass)
    /// varint count, then that many registers (tensors).
    case registers
    /// varint index into the value pool K.
    case value
    /// varint index into the tensor pool T.
    case tensor
    /// varint index into the float pool F.
    case number
    /// varint index into the string pool S, naming something of the plan or the model.
    case string(NameRole)
    /// varint access point id, in the model's forward order.
    case point
    /// varint skippable module id.
    case module
    /// zigzag dimension of the register operands (0 ..< rank).
    case axis
    /// zigzag dimension where a new one goes (0 ... rank).
    case newAxis
    /// varint: 0 for none, else zigzag dimension + 1.
    case optionalAxis
    /// zigzag count, at least 1.
    case count
    /// u8 0 or 1.
    case flag
    /// u8 function codes and dtypes (their order in UnaryFn, BinaryFn, ReduceFn, AssignFn, DType,
    /// and normal, uniform, integers for random draws).
    case unaryFn, binaryFn, reduceFn, assignFn, dtype, randomFn
    /// zigzag varint: any integer.
    case integer
    /// varint count, then per item a u8 tag (0 position, 1 gather, 2 slice) and registers.
    case index
    /// varint count, then per dimension a u8 tag (0 known + zigzag, 1 symbol + string).
    case shape

    /// Every kind once (register classes and name roles are shown by the label), for docs.
    static let all: [OperandKind] = [.reg(.any), .registers, .value, .tensor, .number, .string(.param), .point, .module,
                                     .axis, .newAxis, .optionalAxis, .count, .flag, .unaryFn, .binaryFn, .reduceFn,
                                     .assignFn, .dtype, .randomFn, .integer, .index, .shape]

    /// How it is written, and what the verifier checks, in one line each (docs/bytecode.md).
    public var encoding: String {
        switch self {
        case .reg: return "varint register"
        case .registers: return "varint count, then registers"
        case .value, .tensor, .number, .string: return "varint pool index"
        case .point, .module: return "varint id"
        case .axis, .newAxis, .count, .integer: return "zigzag varint"
        case .optionalAxis: return "varint: 0 for none, else zigzag + 1"
        case .flag, .unaryFn, .binaryFn, .reduceFn, .assignFn, .dtype, .randomFn: return "u8"
        case .index: return "varint count, then per item u8 tag (0 position, 1 gather, 2 slice) and registers (slice: three optional)"
        case .shape: return "varint count, then per dimension u8 tag (0 known + zigzag, 1 symbol + string index)"
        }
    }

    public var check: String {
        switch self {
        case .reg: return "an earlier instruction with a value, of the class (any, numeric, operand = numeric or str, str, topk), available at this phase"
        case .registers: return "at least one; each as reg(numeric)"
        case .value: return "< number of values"
        case .tensor: return "< number of tensors"
        case .number: return "< number of floats"
        case .string: return "< number of strings; names a param, a callable module or weight of the model, or a save key"
        case .point: return "< the model's number of points"
        case .module: return "< the model's number of skippable modules"
        case .axis: return "0 ..< rank of the register operands"
        case .newAxis: return "0 ... rank of the register operands"
        case .optionalAxis: return "none, or as axis"
        case .count: return ">= 1 (and <= the dimension when known)"
        case .flag: return "0 or 1"
        case .unaryFn, .binaryFn, .reduceFn, .assignFn, .dtype, .randomFn: return "< number of codes"
        case .integer: return "any (the op's rule bounds it)"
        case .index: return "one item per dimension; positions and slice bounds are ints; integer tensors (gathers) broadcast together"
        case .shape: return "known dimensions in 0 ... 2^40; symbols name strings"
        }
    }

    /// The short name in listings and docs.
    public var label: String {
        switch self {
        case .reg(let c): return "reg(\(c.rawValue))"
        case .registers: return "regs"
        case .value: return "K"
        case .tensor: return "T"
        case .number: return "F"
        case .string(let r): return "S(\(r.rawValue))"
        case .point: return "point"
        case .module: return "module"
        case .axis: return "axis"
        case .newAxis: return "newaxis"
        case .optionalAxis: return "axis?"
        case .count: return "count"
        case .flag: return "flag"
        case .unaryFn: return "unary"
        case .binaryFn: return "binary"
        case .reduceFn: return "reduce"
        case .assignFn: return "assign"
        case .dtype: return "dtype"
        case .randomFn: return "random"
        case .integer: return "int"
        case .index: return "index"
        case .shape: return "shape"
        }
    }
}

/// What a register operand must hold.
public enum RegisterClass: String, Sendable {
    /// Any value.
    case any
    /// A number or tensor (int, float, bool or tensor).
    case numeric
    /// A number or tensor, or a string (string equality).
    case operand
    case str
    case topk
}

/// What a string operand names: a param of the plan's table, a callable module of the
/// model, a key of the plan's save table.
public enum NameRole: String, Sendable {
    case param, callable, saveKey = "save", weight
}

/// What an instruction produces.
public enum ResultKind: String, Sendable {
    /// A value of any type.
    case value
    /// A tensor.
    case tensor
    /// A topk pair.
    case topk
    /// Nothing: a write, save or skip (no result type).
    case effect
}

/// Wire codes of function and dtype operands (and of tensor types): the position in
/// these lists. Append only: a reordering changes the meaning of every plan written.
enum WireCodes {
    static let unary: [UnaryFn] = [.neg, .not, .abs, .exp, .log, .sqrt, .relu, .sigmoid, .tanh]
    static let binary: [BinaryFn] = [.add, .sub, .mul, .div, .mod, .pow, .matmul, .eq, .ne, .lt, .le, .gt, .ge, .and, .or]
    static let reduce: [ReduceFn] = [.sum, .mean, .max, .min, .argmax, .argmin, .norm]
    static let assign: [AssignFn] = [.set, .add, .sub, .mul, .div]
    static let dtypes: [DType] = [.f32, .f16, .bf16, .i32, .i64, .u8, .bool]
    /// Random distributions by code; `integers` takes its bounds from the op's operands.
    static let random: [String] = ["normal", "uniform", "integers"]

    /// The list an operand kind's u8 code indexes, by its length.
    static func count(of kind: OperandKind) -> Int? {
        switch kind {
        case .unaryFn: return unary.count
        case .binaryFn: return binary.count
        case .reduceFn: return reduce.count
        case .assignFn: return assign.count
        case .dtype: return dtypes.count
        case .randomFn: return random.count
        default: return nil
        }
    }

    /// Names in code order, for docs.
    static func names(of kind: OperandKind) -> [String] {
        switch kind {
        case .unaryFn: return unary.map(\.rawValue)
        case .binaryFn: return binary.map(\.rawValue)
        case .reduceFn: return reduce.map(\.rawValue)
        case .assignFn: return assign.map(\.rawValue)
        case .dtype: return dtypes.map(\.rawValue)
        case .randomFn: return random
        default: return []
        }
    }

    static func name(of kind: OperandKind, _ code: Int) -> String {
        switch kind {
        case .unaryFn: return unary[code].rawValue
        case .binaryFn: return binary[code].rawValue
        case .reduceFn: return reduce[code].rawValue
        case .assignFn: return assign[code].rawValue
        case .dtype: return dtypes[code].rawValue
        case .randomFn: return random[code]
        default: return String(code)
        }
    }
}
