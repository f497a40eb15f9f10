import Foundation
import NSIIR

extension Pass {
    /// Constant folding of scalar arithmetic on `.constant` operands, computed as the VM
    /// computes it. Nothing that could trap (division or modulo by zero, integer
    /// overflow) or whose result is infinite, NaN or -0.0 is folded: those stay for the
    /// run to produce. A folded value with no guard moves before the pass.
    public static let fold = Pass(name: "fold", verb: "folded") { program in
        var code = program.instructions
        var folded = 0
        for (i, ins) in code.enumerated() {
            func constant(_ v: ValueID) -> ConstValue? {
                if case .constant(let c) = code[v.index].op { return c }
                return nil
            }
            let result: ConstValue?
            switch ins.op {
            case .unary(let fn, let a):
                result = constant(a).flatMap { foldUnary(fn, $0, ins.type) }
            case .binary(let fn, let a, let b):
                guard let x = constant(a), let y = constant(b) else { continue }
                result = foldBinary(fn, x, y, ins.type)
            default: continue
            }
            guard let result else { continue }
            var anchor = ins.anchor
            if anchor.guardValue == nil { anchor.phase = .before }
            code[i] = ins.with(op: .constant(result), anchor: anchor)
            folded += 1
        }
        var p = program
        p.instructions = code
        return (p, folded)
    }

    /// A float result is kept only if finite and not -0.0 (nor NaN).
    static func safe(_ x: Double) -> ConstValue? {
        guard x.isFinite, !(x == 0 && x.sign == .minus) else { return nil }
        return .float(x)
    }

    static func number(_ c: ConstValue) -> Double? {
        guard let x = c.numberValue, !x.isNaN else { return nil }
        return x
    }

    // -x, !b, abs, and the float functions.
    static func foldUnary(_ fn: UnaryFn, _ c: ConstValue, _ type: ValueType?) -> ConstValue? {
        switch (fn, c, type) {
        case (.neg, .int(let i), .int?): return i == Int.min ? nil : .int(-i)
        case (.abs, .int(let i), .int?): return i == Int.min ? nil : .int(abs(i))
        case (.not, .bool(let b), .bool?): return .bool(!b)
        case (_, .float(let f), .float?):
            guard !f.isNaN else { return nil }
            switch fn {
            case .neg: return safe(-f)                       // -0.0 stays unfolded
            case .abs: return safe(abs(f))
            case .exp: return safe(exp(f))
            case .log: return f > 0 ? safe(log(f)) : nil     // log 0 = -inf, log of a negative = NaN
            case .sqrt: return f >= 0 ? safe(f.squareRoot()) : nil
            case .relu: return safe(max(f, 0))
            case .sigmoid: return safe(1 / (1 + exp(-f)))
            case .tanh: return safe(tanh(f))
            case .not: return nil
            }
        default: return nil
        }
    }

    // Python's scalar arithmetic, as the VM's `binary` computes it.
    static func foldBinary(_ fn: BinaryFn, _ a: ConstValue, _ b: ConstValue, _ type: ValueType?) -> ConstValue? {
        switch (a, b, type) {
        case (.int(let x), .int(let y), .int?):
            switch fn {
            case .add: let (r, o) = x.addingReportingOverflow(y); return o ? nil : .int(r)
            case .sub: let (r, o) = x.subtractingReportingOverflow(y); return o ? nil : .int(r)
            case .mul: let (r, o) = x.multipliedReportingOverflow(by: y); return o ? nil : .int(r)
            case .mod:
                guard y != 0, !(x == Int.min && y == -1) else { return nil }
                let m = x % y
                return .int(m != 0 && (m < 0) != (y < 0) ? m + y : m)
            default: return nil
            }
        case (_, _, .float?):
            guard let x = number(a), let y = number(b) else { return nil }
            switch fn {
            case .add: return safe(x + y)
            case .sub: return safe(x - y)
            case .mul: return safe(x * y)
            case .div: return y == 0 ? nil : safe(x / y)
            case .pow: return safe(pow(x, y))
            case .mod: return y == 0 ? nil : safe(x - (x / y).rounded(.down) * y)
            default: return nil
            }
        case (_, _, .bool?):
            if case .str(let x) = a, case .str(let y) = b, fn == .eq || fn == .ne { return .bool((x == y) == (fn == .eq)) }
            guard let x = number(a), let y = number(b) else { return nil }
            switch fn {
            case .eq: return .bool(x == y)
            case .ne: return .bool(x != y)
            case .lt: return .bool(x < y)
            case .le: return .bool(x <= y)
            case .gt: return .bool(x > y)
            case .ge: return .bool(x >= y)
            case .and: return .bool(x != 0 && y != 0)
            case .or: return .bool(x != 0 || y != 0)
            default: return nil
            }
        default: return nil
        }
    }
}
