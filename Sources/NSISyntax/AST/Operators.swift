/// Binary operators, with Python's precedence (higher binds tighter).
public enum BinaryOperator: String, Sendable, CaseIterable {
    case or, and
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case add = "+", subtract = "-"
    case multiply = "*", divide = "/", modulo = "%", matmul = "@"
    case power = "**"

    public var precedence: Precedence {
        switch self {
        case .or: .or
        case .and: .and
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: .comparison
        case .add, .subtract: .additive
        case .multiply, .divide, .modulo, .matmul: .multiplicative
        case .power: .power
        }
    }

    public var isComparison: Bool { precedence == .comparison }
    public var spelling: String { rawValue }
}

/// Precedence levels, loosest first. `not` sits between `and` and the comparisons;
/// unary minus between `* /` and `**`, so `-a ** b` is `-(a ** b)` as in Python.
public enum Precedence: Int, Comparable, Sendable {
    case or = 1, and, not, comparison, additive, multiplicative, unary, power

    public static func < (a: Precedence, b: Precedence) -> Bool { a.rawValue < b.rawValue }
}

public enum UnaryOperator: String, Sendable {
    case negate = "-"
    case not

    public var spelling: String { rawValue }
}

/// `=` and the compound assignments.
public enum AssignOperator: String, Sendable {
    case assign = "=", add = "+=", subtract = "-=", multiply = "*=", divide = "/="

    public var spelling: String { rawValue }
}
