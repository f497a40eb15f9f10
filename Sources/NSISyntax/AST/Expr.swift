import NSISource

/// A name as written, with where it was written.
public struct Identifier: Equatable, Sendable {
    public var name: String
    public var range: SourceRange

    public init(name: String, range: SourceRange) {
        self.name = name
        self.range = range
    }
}

/// An expression and its source range. Parentheses are kept as `.paren` nodes so that
/// tools reproduce what was written; a checker looks through them.
public struct Expr: Equatable, Sendable {
    public var kind: Kind
    public var range: SourceRange

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    public indirect enum Kind: Equatable, Sendable {
        /// `42`; the text keeps the spelling (`1_000`) for the formatter.
        case integer(Int64, text: String)
        case float(Double, text: String)
        /// The decoded value.
        case string(String)
        case boolean(Bool)
        case name(String)
        /// The `model` keyword: the root of access points, module calls and model constants.
        case model
        /// The `result` keyword: `result.ids`, `result.text` after a generate.
        case result
        /// `...`: in a subscript it is an index (see SubscriptIndex); elsewhere a placeholder.
        case ellipsis
        /// `[a, b, c]`: a tensor literal or a list to loop over.
        case list([Expr])
        case paren(Expr)
        case unary(UnaryExpr)
        case binary(BinaryExpr)
        /// `a..<b`; valid only in `for` and `step` headers.
        case range(RangeExpr)
        case attribute(AttributeExpr)
        case call(CallExpr)
        case `subscript`(SubscriptExpr)
        /// Stands for an expression that a syntax error left out.
        case missing
    }
}

public struct UnaryExpr: Equatable, Sendable {
    public var op: UnaryOperator
    public var operatorRange: SourceRange
    public var operand: Expr
}

public struct BinaryExpr: Equatable, Sendable {
    public var op: BinaryOperator
    public var operatorRange: SourceRange
    public var lhs: Expr
    public var rhs: Expr
}

public struct RangeExpr: Equatable, Sendable {
    public var lower: Expr
    public var upper: Expr
}

/// `base.name`. After a dot any word is a name, keywords included (`model.model.layers`).
public struct AttributeExpr: Equatable, Sendable {
    public var base: Expr
    public var name: Identifier
}

public struct CallExpr: Equatable, Sendable {
    public var callee: Expr
    public var arguments: [CallArgument]
}

/// `value` or `label = value`.
public struct CallArgument: Equatable, Sendable {
    public var label: Identifier?
    public var value: Expr
    public var range: SourceRange
}

public struct SubscriptExpr: Equatable, Sendable {
    public var base: Expr
    public var indices: [SubscriptIndex]
}

/// One comma-separated item of a subscript.
public enum SubscriptIndex: Equatable, Sendable {
    case expr(Expr)
    /// `lower:upper:step`, each part optional.
    case slice(SliceExpr)
    /// `...`: as many full slices as needed.
    case ellipsis(SourceRange)

    public var range: SourceRange {
        switch self {
        case .expr(let expr): expr.range
        case .slice(let slice): slice.range
        case .ellipsis(let range): range
        }
    }
}

public struct SliceExpr: Equatable, Sendable {
    public var lower: Expr?
    public var upper: Expr?
    public var step: Expr?
    public var range: SourceRange
}
