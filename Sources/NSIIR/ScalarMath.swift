import Foundation

/// The outcome of scalar arithmetic: a value, a trap (integer modulo by zero), or not a
/// scalar case at all (the operands are tensors, or the result type is not a scalar).
public enum ScalarOutcome: Equatable, Sendable {
    case value(ConstValue)
    case trap(String)
    case notScalar
}

/// Python's scalar arithmetic, as plans compute it: integers wrap like the VM's
/// registers, `%` takes the divisor's sign, `/` and `**` give floats, floats follow IEEE
/// (so infinities and NaN can appear). One definition serves the VM and constant folding,
/// which adds its own refusals on top (see NSIOpt's `fold`).
public enum ScalarMath {
    public static func binary(_ fn: BinaryFn, _ a: ConstValue, _ b: ConstValue, resultType: ValueType?) -> ScalarOutcome {
        switch (a, b, resultType) {
        case (.int(let x), .int(let y), .int?):
            switch fn {
            case .add: return .value(.int(x &+ y))
            case .sub: return .value(.int(x &- y))
            case .mul: return .value(.int(x &* y))
            case .mod:
                guard y != 0 else { return .trap("integer modulo by zero") }
                if x == Int.min && y == -1 { return .value(.int(0)) }
                let m = x % y
                return .value(.int(m != 0 && (m < 0) != (y < 0) ? m + y : m))
            default: return .notScalar
            }
        case (_, _, .float?):
            guard let x = a.numberValue, let y = b.numberValue else { return .notScalar }
            switch fn {
            case .add: return .value(.float(x + y))
            case .sub: return .value(.float(x - y))
            case .mul: return .value(.float(x * y))
            case .div: return .value(.float(x / y))
            case .pow: return .value(.float(pow(x, y)))
            case .mod: return .value(.float(x - (x / y).rounded(.down) * y))
            default: return .notScalar
            }
        case (_, _, .bool?):
            if case .str(let x) = a, case .str(let y) = b, fn == .eq || fn == .ne { return .value(.bool((x == y) == (fn == .eq))) }
            guard let x = a.numberValue, let y = b.numberValue else { return .notScalar }
            switch fn {
            case .eq: return .value(.bool(x == y))
            case .ne: return .value(.bool(x != y))
            case .lt: return .value(.bool(x < y))
            case .le: return .value(.bool(x <= y))
            case .gt: return .value(.bool(x > y))
            case .ge: return .value(.bool(x >= y))
            case .and: return .value(.bool(x != 0 && y != 0))
            case .or: return .value(.bool(x != 0 || y != 0))
            default: return .notScalar
            }
        default:
            return .notScalar
        }
    }

    public static func unary(_ fn: UnaryFn, _ c: ConstValue, resultType: ValueType?) -> ScalarOutcome {
        switch (fn, c, resultType) {
        case (.neg, .int(let i), .int?): return .value(.int(0 &- i))
        case (.abs, .int(let i), .int?): return .value(.int(i == Int.min ? i : abs(i)))
        case (.not, .bool(let b), .bool?): return .value(.bool(!b))
        case (_, .float(let f), .float?):
            switch fn {
            case .neg: return .value(.float(-f))
            case .abs: return .value(.float(abs(f)))
            case .exp: return .value(.float(exp(f)))
            case .log: return .value(.float(log(f)))
            case .sqrt: return .value(.float(f.squareRoot()))
            case .relu: return .value(.float(f.isNaN ? f : max(f, 0)))
            case .sigmoid: return .value(.float(1 / (1 + exp(-f))))
            case .tanh: return .value(.float(tanh(f)))
            case .not: return .notScalar
            }
        default:
            return .notScalar
        }
    }
}
