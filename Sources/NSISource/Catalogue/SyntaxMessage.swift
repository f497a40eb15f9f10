/// Every message the lexer and the parser report, with its wording.
///
/// `found` parameters are descriptions of tokens made by the parser (`` `)` ``,
/// `end of line`, `keyword `step``), inserted as they are.
public enum SyntaxMessage: DiagnosticMessage, Equatable {
    // Lexical.
    case unterminatedString
    case unknownEscape(String)
    case invalidUnicodeEscape(reason: String)
    case malformedNumber(String)
    case numberOutOfRange(String)
    case invalidCharacter(String)
    case invalidUTF8
    case singleQuotedString

    // Syntax.
    case expectedStatement(found: String)
    case expectedToken(String, found: String, help: String? = nil)
    case expectedExpression(found: String)
    case expectedName(found: String, isKeyword: Bool)
    case unclosedDelimiter(open: String, close: String)
    case unexpectedClosingDelimiter(String)
    case missingSeparator
    case nestingTooDeep(limit: Int)
    case expressionStatement
    case invalidAssignmentTarget
    case invalidSkipTarget
    case rangeOutsideHeader
    case chainedComparison
    case positionalAfterKeyword
    case duplicateKeyword(String)
    case positionalOption
    case emptyBrackets(what: String)
    case elseWithoutIf
    case unknownType(String, suggestion: String?)
    case scalarTypeWithDimensions(String)
    case tensorTypeWithoutDimensions(String)
    case tooManyErrors(limit: Int)

    public var syntaxCode: SyntaxCode {
        switch self {
        case .unterminatedString: .unterminatedString
        case .unknownEscape: .unknownEscape
        case .invalidUnicodeEscape: .invalidUnicodeEscape
        case .malformedNumber: .malformedNumber
        case .numberOutOfRange: .numberOutOfRange
        case .invalidCharacter: .invalidCharacter
        case .invalidUTF8: .invalidUTF8
        case .singleQuotedString: .singleQuotedString
        case .expectedStatement: .expectedStatement
        case .expectedToken: .expectedToken
        case .expectedExpression: .expectedExpression
        case .expectedName: .expectedName
        case .unclosedDelimiter: .unclosedDelimiter
        case .unexpectedClosingDelimiter: .unexpectedClosingDelimiter
        case .missingSeparator: .missingSeparator
        case .nestingTooDeep: .nestingTooDeep
        case .expressionStatement: .expressionStatement
        case .invalidAssignmentTarget: .invalidAssignmentTarget
        case .invalidSkipTarget: .invalidSkipTarget
        case .rangeOutsideHeader: .rangeOutsideHeader
        case .chainedComparison: .chainedComparison
        case .positionalAfterKeyword: .positionalAfterKeyword
        case .duplicateKeyword: .duplicateKeyword
        case .positionalOption: .positionalOption
        case .emptyBrackets: .emptyBrackets
        case .elseWithoutIf: .elseWithoutIf
        case .unknownType: .unknownType
        case .scalarTypeWithDimensions: .scalarTypeWithDimensions
        case .tensorTypeWithoutDimensions: .tensorTypeWithoutDimensions
        case .tooManyErrors: .tooManyErrors
        }
    }

    public var code: DiagnosticCode { syntaxCode.code }
    public var severity: Severity { .error }

    public var text: String {
        switch self {
        case .unterminatedString: "unterminated string literal"
        case .unknownEscape(let escape): "unknown escape sequence `\(escape)`"
        case .invalidUnicodeEscape(let reason): "invalid unicode escape: \(reason)"
        case .malformedNumber(let literal): "malformed number `\(literal)`"
        case .numberOutOfRange(let literal): "number `\(literal)` is out of range"
        case .invalidCharacter(let text): "invalid character `\(text)`"
        case .invalidUTF8: "invalid UTF-8"
        case .singleQuotedString: "strings are written in double quotes"
        case .expectedStatement(let found): "expected a statement, found \(found)"
        case .expectedToken(let token, let found, _): "expected \(token), found \(found)"
        case .expectedExpression(let found): "expected an expression, found \(found)"
        case .expectedName(let found, _): "expected a name, found \(found)"
        case .unclosedDelimiter(_, let close): "expected `\(close)`: this delimiter is never closed"
        case .unexpectedClosingDelimiter(let close): "unexpected `\(close)` with no matching opener"
        case .missingSeparator: "statements on one line must be separated by `;`"
        case .nestingTooDeep(let limit): "nesting is too deep (the limit is \(limit) levels)"
        case .expressionStatement: "this expression is not a statement and has no effect"
        case .invalidAssignmentTarget: "cannot assign to this expression"
        case .invalidSkipTarget: "`skip` needs a module path such as `model.layers[4]`"
        case .rangeOutsideHeader: "a range `a..<b` is only allowed in a `for` or `step` header"
        case .chainedComparison: "comparison operators cannot be chained"
        case .positionalAfterKeyword: "positional argument after a keyword argument"
        case .duplicateKeyword(let name): "`\(name)` is given more than once"
        case .positionalOption: "generate options must be written `name = value`"
        case .emptyBrackets(let what): "empty \(what)"
        case .elseWithoutIf: "`else` without a preceding `if`"
        case .unknownType(let name, _): "unknown type `\(name)`"
        case .scalarTypeWithDimensions(let name): "`\(name)` is a scalar type and takes no dimensions"
        case .tensorTypeWithoutDimensions(let name): "tensor type `\(name)` needs its dimensions"
        case .tooManyErrors(let limit): "more than \(limit) errors; the rest of the file is not reported"
        }
    }

    public var label: String {
        switch self {
        case .unterminatedString: "string starts here"
        case .expectedToken(let token, _, _): "expected \(token)"
        case .expectedExpression: "expected an expression"
        case .expectedName: "expected a name"
        case .unclosedDelimiter(_, let close): "expected `\(close)`"
        case .missingSeparator: "expected `;` or a new line before this"
        case .expressionStatement: "the value is computed and dropped"
        case .invalidAssignmentTarget: "not a name, a model point or an element of one"
        case .chainedComparison: "second comparison"
        default: ""
        }
    }

    public var notes: [String] {
        switch self {
        case .expectedName(_, true): ["keywords cannot be used as names"]
        case .chainedComparison: ["unlike Python, `a < b < c` is not accepted"]
        case .nestingTooDeep: ["the limit keeps the parser's stack bounded on any input"]
        case .rangeOutsideHeader: ["ranges are not values; they only say which iterations or steps"]
        case .tooManyErrors: ["this is probably not an nsi script, or a much damaged one"]
        default: []
        }
    }

    public var help: String? {
        switch self {
        case .unterminatedString: "add a closing `\"`; strings cannot span lines (use `\\n`)"
        case .unknownEscape: "the escapes are `\\n`, `\\t`, `\\r`, `\\\"`, `\\\\` and `\\u{...}`"
        case .invalidUnicodeEscape: "write one to eight hex digits naming a Unicode scalar, as in `\\u{e9}`"
        case .malformedNumber: "numbers are decimal: `42`, `0.5`, `2.`, `1e-3`"
        case .numberOutOfRange: "integers are 64-bit; floats must be finite"
        case .invalidCharacter(let text): SyntaxMessage.invalidCharacterHelp(text)
        case .singleQuotedString: "replace the `'` quotes with `\"`"
        case .expectedToken(_, _, let help): help
        case .missingSeparator: "put each statement on its own line"
        case .expressionStatement: "bind it with `let name = ...` or return it with `save name = ...`"
        case .invalidAssignmentTarget: "assign to a model point such as `model.layers[3].output[:, -1]`"
        case .chainedComparison: "write `a < b and b < c`"
        case .positionalAfterKeyword: "put positional arguments first"
        case .positionalOption: "for example `(max_tokens = 12)`"
        case .elseWithoutIf: "`else` must follow the `}` of an `if` block"
        case .unknownType(_, let suggestion):
            suggestion.map { "did you mean `\($0)`?" }
                ?? "the types are `int`, `float`, `bool`, `str`, `tensor[...]`, `f32[...]` and `i32[...]`"
        case .tensorTypeWithoutDimensions(let name): "for example `\(name)[model.hidden_size]`"
        default: nil
        }
    }

    static func invalidCharacterHelp(_ text: String) -> String? {
        switch text {
        case "&", "&&": "use `and`"
        case "|", "||": "use `or`"
        case "!": "use `not`"
        case "^": "use `**` for powers"
        case "..": "a half-open range is written `a..<b`"
        default: text.unicodeScalars.contains { !$0.isASCII }
            ? "names and operators are ASCII; other characters may appear in strings and comments" : nil
        }
    }
}

/// Texts of secondary labels, kept beside the messages they go with.
public enum SyntaxLabel {
    public static func unclosed(_ open: String) -> String { "unclosed `\(open)`" }
    public static let firstUse = "first given here"
}
