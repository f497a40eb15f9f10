import NSISource

/// The reserved words of the language. `model` and `result` are expressions;
/// the others start statements or are operators.
public enum Keyword: String, CaseIterable, Sendable {
    case param, `let`, save, trace, invoke, generate, step, each
    case `if`, `else`, `for`, `in`, skip, backward, `true`, `false`
    case and, or, not, model, result

    /// Keywords that begin a statement; a statement may follow another on the same line
    /// without `;` when it starts with one of these (see docs/language.md).
    public var startsStatement: Bool {
        switch self {
        case .param, .let, .save, .trace, .invoke, .generate, .step, .each, .if, .for, .skip, .backward: true
        default: false
        }
    }
}

public enum TokenKind: Equatable, Hashable, Sendable {
    case identifier
    case keyword(Keyword)
    case integer
    case float
    case string
    case newline
    case leftParen, rightParen, leftBracket, rightBracket, leftBrace, rightBrace
    case comma, colon, semicolon, dot, ellipsis, rangeUpTo
    case assign, plusAssign, minusAssign, starAssign, slashAssign
    case plus, minus, star, slash, percent, at, starStar
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    /// Characters the lexer rejected (already reported); the parser reports nothing more at it.
    case invalid
    case endOfFile

    /// The spelling of fixed tokens, for messages and the formatter.
    public var spelling: String? {
        switch self {
        case .keyword(let keyword): keyword.rawValue
        case .leftParen: "("
        case .rightParen: ")"
        case .leftBracket: "["
        case .rightBracket: "]"
        case .leftBrace: "{"
        case .rightBrace: "}"
        case .comma: ","
        case .colon: ":"
        case .semicolon: ";"
        case .dot: "."
        case .ellipsis: "..."
        case .rangeUpTo: "..<"
        case .assign: "="
        case .plusAssign: "+="
        case .minusAssign: "-="
        case .starAssign: "*="
        case .slashAssign: "/="
        case .plus: "+"
        case .minus: "-"
        case .star: "*"
        case .slash: "/"
        case .percent: "%"
        case .at: "@"
        case .starStar: "**"
        case .equal: "=="
        case .notEqual: "!="
        case .less: "<"
        case .lessEqual: "<="
        case .greater: ">"
        case .greaterEqual: ">="
        default: nil
        }
    }
}

/// Text around tokens that the grammar ignores but tools keep: spaces and comments.
public struct Trivia: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case whitespace
        /// From `#` to the end of the line, without the newline.
        case comment
    }

    public var kind: Kind
    public var range: SourceRange
}

/// A token with the trivia before it. Concatenating every token's trivia and text gives
/// back the source byte for byte (the end-of-file token carries the trailing trivia).
public struct Token: Equatable, Sendable {
    public var kind: TokenKind
    public var range: SourceRange
    public var leadingTrivia: [Trivia]
    /// The decoded value of a string literal.
    public var stringValue: String?

    public init(kind: TokenKind, range: SourceRange, leadingTrivia: [Trivia] = [], stringValue: String? = nil) {
        self.kind = kind
        self.range = range
        self.leadingTrivia = leadingTrivia
        self.stringValue = stringValue
    }
}
