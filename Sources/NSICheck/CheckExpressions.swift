import Foundation
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

extension CheckContext {
    /// Checks an expression; nil after an error has been reported (so callers stay quiet).
    func checkExpr(_ e: Expr) -> ValueRef? {
        let v = checkExprKind(e)
        if recordTypes, let v {
            var point: Point?
            if let p = v.sourcePoint, let id = v.id, case .readPoint(p) = instructions[id.index].op { point = signature.points.points[p] }
            var runTime: Bool?
            if case .name(let n) = e.kind, case .param(let info, _)? = lookup(n)?.0 { runTime = info.binding == .runTime }
            recorded.append(CheckedExpression(range: e.range, type: v.type, constant: v.constant.map { "\($0)" }, accessPoint: point, isRunTimeParam: runTime, loopValues: point == nil ? [] : loopValues))
        }
        return v
    }

    private func checkExprKind(_ e: Expr) -> ValueRef? {
        expressionsChecked += 1
        if expressionsChecked > Checker.maxExpressions {
            if expressionsChecked == Checker.maxExpressions + 1 { report(.tooMuchWork(Checker.maxExpressions), at: e.range) }
            return nil
        }
        switch e.kind {
        case .integer(let v, _): return constant(.int(Int(v)), type: .int, range: e.range)
        case .float(let v, _): return constant(.float(v), type: .float, range: e.range)
        case .string(let s): return constant(.str(s), type: .str, range: e.range)
        case .boolean(let b): return constant(.bool(b), type: .bool, range: e.range)
        case .paren(let inner):
            guard var v = checkExpr(inner) else { return nil }
            v.range = e.range
            return v
        case .name(let n): return checkName(n, e.range)
        case .list(let items): return checkList(items, e.range)
        case .unary(let u): return checkUnary(u, e.range)
        case .binary(let b): return checkBinary(b, e.range)
        case .model, .attribute, .call, .subscript:
            return checkPostfix(e)
        case .result:
            report(.resultBeforeGenerate(), at: e.range)
            return nil
        case .ellipsis, .range, .missing:
            return nil   // reported by the parser
        }
    }

    func checkName(_ name: String, _ range: SourceRange) -> ValueRef? {
        guard let (symbol, _) = lookup(name) else {
            let visible = scopes.flatMap { $0.symbols.keys }
            report(.undefinedName(name, suggestion: suggestion(for: name, among: visible)), at: range)
            return nil
        }
        switch symbol {
        case .value(var v):
            v.range = range
            return v
        case .param(_, var v):
            v.range = range
            return v
        case .indexed:
            report(.indexedWithoutIndex(name), at: range)
            return nil
        case .poisoned:
            return nil
        }
    }

    /// `[a, b, c]`: a list of strings (prompts), a compile-time list (loops, indices) or a
    /// tensor literal; nested lists make higher-rank literals.
    func checkList(_ items: [Expr], _ range: SourceRange) -> ValueRef? {
        var values: [ValueRef] = []
        for i in items {
            guard let v = checkExpr(i) else { return nil }
            values.append(v)
        }
        let consts = values.compactMap(\.constant)
        if consts.count == values.count {
            if values.allSatisfy({ $0.type == .str }) && !values.isEmpty {
                return constant(.list(consts), type: .strings(values.count), range: range)
            }
            if let (shape, _, isInt) = literalShape(.list(consts)) {
                // The tensor instruction is made when a tensor operation needs it (tensorValue).
                return constant(.list(consts), type: .tensor(isInt ? .i64 : .f32, shape.map { .known($0) }), range: range)
            }
            if case .list(let inner) = ConstValue.list(consts), inner.allSatisfy({ if case .list = $0 { return true }; return false }) {
                report(.raggedLiteral(), at: range)
                return nil
            }
        }
        // A list of tensors (arguments of cat and stack).
        return ValueRef(id: nil, type: .list(values.map(\.type)), constant: nil, anchor: currentAnchor, range: range,
                        sourcePoint: nil, items: values)
    }

    /// Shape and values of a rectangular numeric literal.
    func literalShape(_ c: ConstValue) -> ([Int], [Double], Bool)? {
        switch c {
        case .int(let i): return ([], [Double(i)], true)
        case .float(let f): return ([], [f], false)
        case .bool: return nil
        case .str: return nil
        case .list(let items):
            var shape: [Int]?
            var flat: [Double] = []
            var allInt = true
            for item in items {
                guard let (s, f, isInt) = literalShape(item) else { return nil }
                if let shape, shape != s { return nil }
                shape = s
                flat += f
                allInt = allInt && isInt
            }
            return ([items.count] + (shape ?? []), flat, allInt)
        }
    }

    /// Materializes a value as a tensor instruction where a tensor is needed (literals).
    func tensorValue(_ v: ValueRef) -> ValueRef {
        if v.id != nil { return v }
        if case .tensor(let dtype, let shape) = v.type, let c = v.constant, let (s, flat, _) = literalShape(c) {
            var r = emit(.tensorConstant(shape: s, data: flat.map(Float.init)), type: .tensor(dtype == .i64 ? .i64 : .f32, shape), operands: [], range: v.range, phase: .before)
            r.constant = c
            return r
        }
        return materialize(v)
    }

    func checkUnary(_ u: UnaryExpr, _ range: SourceRange) -> ValueRef? {
        guard let v = checkExpr(u.operand) else { return nil }
        switch u.op {
        case .negate:
            switch v.constant {
            case .int(let i): return constant(.int(-i), type: .int, range: range)
            case .float(let f): return constant(.float(-f), type: .float, range: range)
            default: break
            }
            guard v.type.isNumeric, v.type != .bool else { report(.operandType("-", v.type, nil), at: range); return nil }
            let t = tensorValue(v)
            return emit(.unary(.neg, operandID(t)), type: v.type, operands: [t], range: range)
        case .not:
            if case .bool(let b) = v.constant { return constant(.bool(!b), type: .bool, range: range) }
            guard v.type == .bool || v.type.elementType == .bool else { report(.operandType("not", v.type, nil), at: range); return nil }
            let t = tensorValue(v)
            return emit(.unary(.not, operandID(t)), type: v.type, operands: [t], range: range)
        }
    }

    func binaryFn(_ op: BinaryOperator) -> BinaryFn {
        switch op {
        case .or: return .or
        case .and: return .and
        case .equal: return .eq
        case .notEqual: return .ne
        case .less: return .lt
        case .lessEqual: return .le
        case .greater: return .gt
        case .greaterEqual: return .ge
        case .add: return .add
        case .subtract: return .sub
        case .multiply: return .mul
        case .divide: return .div
        case .modulo: return .mod
        case .matmul: return .matmul
        case .power: return .pow
        }
    }

    func checkBinary(_ b: BinaryExpr, _ range: SourceRange) -> ValueRef? {
        guard let l = checkExpr(b.lhs), let r = checkExpr(b.rhs) else { return nil }
        return binary(binaryFn(b.op), l, r, spelling: b.op.spelling, operatorRange: b.operatorRange, lhs: b.lhs.range, rhs: b.rhs.range, range)
    }

    /// `l fn r` with PyTorch's broadcasting and promotion (an operator, or a function such
    /// as `matmul` or `outer` written with it); errors point at `operatorRange`.
    func binary(_ fn: BinaryFn, _ l: ValueRef, _ r: ValueRef, spelling: String, operatorRange: SourceRange,
                lhs lhsRange: SourceRange, rhs rhsRange: SourceRange, _ range: SourceRange) -> ValueRef? {
        if let folded = fold(fn, l, r, range) { return folded }
        if diagnostics.last?.primary.range == range && diagnostics.last?.code == CheckCode.divisionByZero.code { return nil }
        guard l.type.isNumeric, r.type.isNumeric else {
            if l.type == .str && r.type == .str && (fn == .eq || fn == .ne) {
                let a = materialize(l), c = materialize(r)
                return emit(.binary(fn, operandID(a), operandID(c)), type: .bool, operands: [a, c], range: range)
            }
            report(.operandType(spelling, l.type, r.type), at: operatorRange,
                   secondary: [Label(lhsRange, l.type.description), Label(rhsRange, r.type.description)])
            return nil
        }
        let ls = l.type.shape!, rs = r.type.shape!
        var shape: [ShapeDim]
        if fn == .matmul {
            guard let s = matmulShape(ls, rs) else {
                // Offer `.T` only on a weight that would then fit: the slip of `h @ W` for `h @ W.T`.
                func t(_ s: [ShapeDim]) -> [ShapeDim] { s.count == 2 ? [s[1], s[0]] : s }
                func isWeight(_ v: ValueRef) -> Bool {
                    if let id = v.id, case .weight = instructions[id.index].op { return true }
                    return false
                }
                let fix = isWeight(r) && rs.count == 2 && matmulShape(ls, t(rs)) != nil ? "right"
                    : isWeight(l) && ls.count == 2 && matmulShape(t(ls), rs) != nil ? "left" : nil
                report(.matmulShape(l.type, r.type, transposed: fix), at: operatorRange,
                       secondary: [Label(lhsRange, l.type.description), Label(rhsRange, r.type.description)])
                return nil
            }
            shape = s
        } else {
            let (s, bad) = broadcastShapes(ls, rs)
            guard let s else {
                let r0 = max(ls.count, rs.count)
                let i = bad!
                let x = i < r0 - ls.count ? ShapeDim.known(1) : ls[i - (r0 - ls.count)]
                let y = i < r0 - rs.count ? ShapeDim.known(1) : rs[i - (r0 - rs.count)]
                report(.broadcast(l.type, r.type, axis: "dimension \(i): \(x) and \(y) differ and neither is 1"), at: operatorRange,
                       secondary: [Label(lhsRange, l.type.description), Label(rhsRange, r.type.description)])
                return nil
            }
            shape = s
        }
        let type: ValueType
        switch fn {
        case .eq, .ne, .lt, .le, .gt, .ge, .and, .or:
            if (fn == .and || fn == .or) && !((l.type.elementType == .bool) && (r.type.elementType == .bool)) {
                report(.operandType(spelling, l.type, r.type), at: operatorRange)
                return nil
            }
            type = shape.isEmpty && l.type.shape == [] && r.type.shape == [] && !isTensor(l) && !isTensor(r) ? .bool : .tensor(.bool, shape)
        default:
            let integral = l.type.isIntegral && r.type.isIntegral && fn != .div && fn != .pow && fn != .matmul
            if !isTensor(l) && !isTensor(r) {
                type = integral ? .int : .float
            } else {
                type = .tensor(integral ? .i64 : .f32, shape)
            }
        }
        let a = tensorValue(l), c = tensorValue(r)
        return emit(.binary(fn, operandID(a), operandID(c)), type: type, operands: [a, c], range: range)
    }

    func isTensor(_ v: ValueRef) -> Bool { if case .tensor = v.type { return true }; return false }

    func matmulShape(_ a: [ShapeDim], _ b: [ShapeDim]) -> [ShapeDim]? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        let a2 = a.count == 1 ? [.known(1)] + a : a
        let b2 = b.count == 1 ? b + [.known(1)] : b
        guard a2[a2.count - 1] == b2[b2.count - 2] else { return nil }
        guard let batch = broadcastShapes(Array(a2.dropLast(2)), Array(b2.dropLast(2))).shape else { return nil }
        var out = batch + [a2[a2.count - 2], b2[b2.count - 1]]
        if a.count == 1 { out.remove(at: out.count - 2) }
        if b.count == 1 { out.removeLast() }
        return out
    }

    /// Folds integer and boolean arithmetic on compile-time values (the structure of the
    /// plan depends on them); float arithmetic is left to the optimizer's folding pass.
    func fold(_ fn: BinaryFn, _ l: ValueRef, _ r: ValueRef, _ range: SourceRange) -> ValueRef? {
        guard let a = l.constant, let b = r.constant else { return nil }
        switch (a, b) {
        case (.int(let x), .int(let y)):
            switch fn {
            case .add: return constant(.int(x &+ y), type: .int, range: range)
            case .sub: return constant(.int(x &- y), type: .int, range: range)
            case .mul: return constant(.int(x &* y), type: .int, range: range)
            case .mod, .div:
                if y == 0 { report(.divisionByZero(), at: range); return nil }
                if fn == .div { return nil }   // true division gives a float: not folded
                let m = x % y
                return constant(.int(m != 0 && (m < 0) != (y < 0) ? m + y : m), type: .int, range: range)
            case .pow:
                guard y >= 0, y < 64 else { return nil }
                var p = 1
                for _ in 0..<y { p = p &* x }
                return constant(.int(p), type: .int, range: range)
            case .eq: return constant(.bool(x == y), type: .bool, range: range)
            case .ne: return constant(.bool(x != y), type: .bool, range: range)
            case .lt: return constant(.bool(x < y), type: .bool, range: range)
            case .le: return constant(.bool(x <= y), type: .bool, range: range)
            case .gt: return constant(.bool(x > y), type: .bool, range: range)
            case .ge: return constant(.bool(x >= y), type: .bool, range: range)
            default: return nil
            }
        case (.bool(let x), .bool(let y)):
            switch fn {
            case .and: return constant(.bool(x && y), type: .bool, range: range)
            case .or: return constant(.bool(x || y), type: .bool, range: range)
            case .eq: return constant(.bool(x == y), type: .bool, range: range)
            case .ne: return constant(.bool(x != y), type: .bool, range: range)
            default: return nil
            }
        case (.str(let x), .str(let y)) where fn == .eq || fn == .ne:
            return constant(.bool((x == y) == (fn == .eq)), type: .bool, range: range)
        default:
            return nil
        }
    }
}
