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

    /// Folds what the run would compute (ScalarMath), except what could trap, overflow,
    /// or give an infinite, NaN or -0.0 result.
    static func foldUnary(_ fn: UnaryFn, _ c: ConstValue, _ type: ValueType?) -> ConstValue? {
        if case .int(let i) = c, i == Int.min { return nil }
        if case .float(let f) = c, f.isNaN { return nil }
        guard case .value(let v) = ScalarMath.unary(fn, c, resultType: type) else { return nil }
        return accept(v)
    }

    static func foldBinary(_ fn: BinaryFn, _ a: ConstValue, _ b: ConstValue, _ type: ValueType?) -> ConstValue? {
        if case .int(let x) = a, case .int(let y) = b, type == .int {
            let overflow: Bool
            switch fn {
            case .add: overflow = x.addingReportingOverflow(y).overflow
            case .sub: overflow = x.subtractingReportingOverflow(y).overflow
            case .mul: overflow = x.multipliedReportingOverflow(by: y).overflow
            case .mod: overflow = x == Int.min && y == -1
            default: overflow = false
            }
            if overflow { return nil }
        }
        if [a, b].contains(where: { $0.numberValue?.isNaN == true }) { return nil }
        if (fn == .div || fn == .mod), b.numberValue == 0 { return nil }
        guard case .value(let v) = ScalarMath.binary(fn, a, b, resultType: type) else { return nil }
        return accept(v)
    }

    /// Floats must be finite and not -0.0; everything else as computed.
    static func accept(_ v: ConstValue) -> ConstValue? {
        if case .float(let x) = v { return safe(x) }
        return v
    }
}
