import Foundation
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

/// Arguments of a call matched to parameter names, positionally or by label.
struct BoundArguments {
    var values: [String: (ValueRef, SourceRange)] = [:]
    func has(_ n: String) -> Bool { values[n] != nil }
    subscript(_ n: String) -> ValueRef? { values[n]?.0 }
    func range(_ n: String) -> SourceRange? { values[n]?.1 }
}

extension CheckContext {
    /// Matches arguments to a built-in's parameters (`Builtin.table`).
    func bind(_ builtin: Builtin, _ args: [CallArgument], _ range: SourceRange) -> BoundArguments? {
        bind("`\(builtin.name)`", args, builtin.parameters ?? [], required: builtin.required, range)
    }

    /// Matches arguments to `names`; `variadic` collects every positional argument instead.
    func bind(_ what: String, _ args: [CallArgument], _ names: [String], required: Int, _ range: SourceRange) -> BoundArguments? {
        var out = BoundArguments()
        var position = 0
        for arg in args {
            let name: String
            if let label = arg.label {
                guard names.contains(label.name) else {
                    report(.argumentCount(what, "unknown argument `\(label.name)`" + (names.isEmpty ? "" : " (takes \(names.joined(separator: ", ")))")), at: label.range)
                    return nil
                }
                name = label.name
            } else {
                guard position < names.count else {
                    report(.argumentCount(what, "takes at most \(names.count) argument\(names.count == 1 ? "" : "s")"), at: arg.range)
                    return nil
                }
                name = names[position]
                position += 1
            }
            guard let v = checkExpr(arg.value) else { return nil }
            out.values[name] = (v, arg.value.range)
        }
        for n in names.prefix(required) where !out.has(n) {
            report(.argumentCount(what, "missing argument `\(n)`"), at: range)
            return nil
        }
        return out
    }

    func constInt(_ a: BoundArguments, _ name: String, _ what: String) -> Int?? {
        guard let v = a[name] else { return .some(nil) }
        guard let i = v.constant?.intValue else {
            report(.argumentType("`\(name)` of \(what)", expected: "a compile-time integer", got: v.type), at: a.range(name)!)
            return nil
        }
        return .some(i)
    }

    func constBool(_ a: BoundArguments, _ name: String, _ what: String) -> Bool? {
        guard let v = a[name] else { return false }
        guard case .bool(let b) = v.constant else {
            report(.argumentType("`\(name)` of \(what)", expected: "a compile-time bool", got: v.type), at: a.range(name)!)
            return nil
        }
        return b
    }

    /// Resolves a possibly negative dimension against a rank.
    func resolveDim(_ d: Int, rank: Int, _ range: SourceRange, extra: Int = 0) -> Int? {
        let n = rank + extra
        let r = d < 0 ? d + n : d
        guard r >= 0 && r < max(n, 0) else {
            report(.dimOutOfRange(d, rank: rank), at: range)
            return nil
        }
        return r
    }

    func checkMethod(_ base: ValueRef, _ name: Identifier, _ args: [CallArgument], _ range: SourceRange) -> ValueRef? {
        let what = "`\(name.name)`"
        guard let builtin = Builtin.method(name.name) else {
            report(.unknownMethod(name.name, suggestion: suggestion(for: name.name, among: Builtin.methodNames)), at: name.range)
            return nil
        }
        guard case .tensor(let dtype, let shape) = base.type else {
            report(.notATensor(what, base.type), at: name.range)
            return nil
        }
        let rank = shape.count
        switch name.name {
        case "sum", "mean", "max", "min", "argmax", "argmin", "norm":
            guard let a = bind(builtin, args, range),
                  let dimOpt = constInt(a, "dim", what), let keep = constBool(a, "keepdim", what) else { return nil }
            var outShape: [ShapeDim] = keep ? shape.map { _ in .known(1) } : []
            var dim: Int?
            if let d = dimOpt {
                guard let r = resolveDim(d, rank: rank, a.range("dim")!) else { return nil }
                dim = r
                outShape = shape
                if keep { outShape[r] = .known(1) } else { outShape.remove(at: r) }
            }
            let fn = ReduceFn(rawValue: name.name)!
            let outType: DType = (fn == .argmax || fn == .argmin) ? .i64 : .f32
            let t = tensorValue(base)
            return emit(.reduce(fn, operandID(t), dim: dim, keepdim: keep), type: .tensor(outType, outShape), operands: [t], range: range)
        case "softmax", "log_softmax":
            guard let a = bind(builtin, args, range), let d = constInt(a, "dim", what) else { return nil }
            guard let r = resolveDim(d ?? -1, rank: rank, a.range("dim") ?? range) else { return nil }
            let t = tensorValue(base)
            return emit(.softmax(operandID(t), dim: r, log: name.name == "log_softmax"), type: .tensor(.f32, shape), operands: [t], range: range)
        case "abs", "exp", "log", "sqrt", "relu", "sigmoid", "tanh":
            guard bind(builtin, args, range) != nil else { return nil }
            let t = tensorValue(base)
            let outType: DType = name.name == "abs" && dtype != .bool ? (dtype == .f32 ? .f32 : dtype) : .f32
            return emit(.unary(UnaryFn(rawValue: name.name)!, operandID(t)), type: .tensor(outType, shape), operands: [t], range: range)
        case "detach":
            guard bind(builtin, args, range) != nil else { return nil }
            let t = tensorValue(base)
            return emit(.detach(operandID(t)), type: base.type, operands: [t], range: range)
        case "clone", "float":
            guard bind(builtin, args, range) != nil else { return nil }
            let t = tensorValue(base)
            if name.name == "float" { return emit(.cast(operandID(t), .f32), type: .tensor(.f32, shape), operands: [t], range: range) }
            return emit(.clone(operandID(t)), type: base.type, operands: [t], range: range)
        case "gather":
            guard let a = bind(builtin, args, range), let d = constInt(a, "dim", what), let index = a["index"] else { return nil }
            return gather(base, d!, a.range("dim")!, index, a.range("index")!, range)
        case "topk":
            guard let a = bind(builtin, args, range),
                  let kOpt = constInt(a, "k", what), let dOpt = constInt(a, "dim", what), let k = kOpt else { return nil }
            guard rank > 0, let d = resolveDim(dOpt ?? -1, rank: rank, a.range("dim") ?? range) else {
                if rank == 0 { report(.dimOutOfRange(-1, rank: 0), at: range) }
                return nil
            }
            if k < 1 || (shape[d].value.map { k > $0 } ?? false) {
                report(.argumentType("`k` of topk", expected: "in 1...\(shape[d])", got: .int), at: a.range("k")!)
                return nil
            }
            var outShape = shape
            outShape[d] = .known(k)
            let t = tensorValue(base)
            return emit(.topk(operandID(t), k: k, dim: d), type: .topk(values: outShape), operands: [t], range: range)
        case "reshape", "view":
            var dims: [Int] = []
            for arg in args {
                guard arg.label == nil, let v = checkExpr(arg.value) else {
                    if let l = arg.label { report(.argumentCount(what, "unknown argument `\(l.name)`"), at: l.range) }
                    return nil
                }
                if case .list(let items) = v.constant { dims += items.compactMap(\.intValue) }
                else if let i = v.constant?.intValue { dims.append(i) }
                else { report(.argumentType("a dimension of \(what)", expected: "a compile-time integer", got: v.type), at: arg.value.range); return nil }
            }
            guard let newShape = reshapeTarget(shape, dims) else {
                report(.reshapeCount(base.type, dims.map { .known($0) }), at: range)
                return nil
            }
            let t = tensorValue(base)
            return emit(.reshape(operandID(t), newShape), type: .tensor(dtype, newShape), operands: [t], range: range)
        case "transpose":
            guard let a = bind(builtin, args, range),
                  let x = constInt(a, "dim0", what), let y = constInt(a, "dim1", what),
                  let d0 = resolveDim(x!, rank: rank, a.range("dim0")!), let d1 = resolveDim(y!, rank: rank, a.range("dim1")!) else { return nil }
            var s = shape
            s.swapAt(d0, d1)
            let t = tensorValue(base)
            return emit(.transpose(operandID(t), d0, d1), type: .tensor(dtype, s), operands: [t], range: range)
        case "unsqueeze":
            guard let a = bind(builtin, args, range), let x = constInt(a, "dim", what),
                  let d = resolveDim(x!, rank: rank, a.range("dim")!, extra: 1) else { return nil }
            var s = shape
            s.insert(.known(1), at: d)
            let t = tensorValue(base)
            return emit(.unsqueeze(operandID(t), d), type: .tensor(dtype, s), operands: [t], range: range)
        case "squeeze":
            guard let a = bind(builtin, args, range), let x = constInt(a, "dim", what) else { return nil }
            var s = shape
            var dim: Int?
            if let x {
                guard let d = resolveDim(x, rank: rank, a.range("dim")!) else { return nil }
                dim = d
                if s[d] == .known(1) { s.remove(at: d) }
            } else {
                s.removeAll { $0 == .known(1) }
            }
            let t = tensorValue(base)
            return emit(.squeeze(operandID(t), dim), type: .tensor(dtype, s), operands: [t], range: range)
        default:
            return nil
        }
    }

    /// The shape a reshape produces, resolving one `-1`; nil when counts cannot match.
    func reshapeTarget(_ shape: [ShapeDim], _ dims: [Int]) -> [ShapeDim]? {
        guard dims.filter({ $0 == -1 }).count <= 1, dims.allSatisfy({ $0 >= -1 }) else { return nil }
        guard let known = shape.allKnown else {
            // With a symbolic size only a `-1` can absorb it.
            guard dims.contains(-1) else { return nil }
            let symbols = shape.filter { $0.value == nil }
            guard symbols.count == 1 else { return nil }
            let fixed = shape.compactMap(\.value).reduce(1, *)
            let other = dims.filter { $0 != -1 }.reduce(1, *)
            guard other > 0, fixed % other == 0 else { return nil }
            return dims.map { $0 == -1 ? (fixed / other == 1 ? symbols[0] : .symbol("\(symbols[0])*\(fixed / other)")) : .known($0) }
        }
        guard let s = Tensor.inferShape(dims, count: known.reduce(1, *)) else { return nil }
        return s.map { .known($0) }
    }
}
