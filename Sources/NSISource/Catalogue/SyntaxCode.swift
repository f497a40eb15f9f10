/// The codes of the lexer (E00xx) and the parser (E01xx), with a one-line title each.
///
/// Raw values are the codes, so the compiler rejects a code used twice. The message
/// texts, with their parameters, are in SyntaxMessage.
public enum SyntaxCode: String, CaseIterable, Sendable {
    // Lexical.
    case unterminatedString = "E0001"
    case unknownEscape = "E0002"
    case invalidUnicodeEscape = "E0003"
    case malformedNumber = "E0004"
    case numberOutOfRange = "E0005"
    case invalidCharacter = "E0006"
    case invalidUTF8 = "E0007"
    case singleQuotedString = "E0008"

    // Syntax.
    case expectedStatement = "E0100"
    case expectedToken = "E0101"
    case expectedExpression = "E0102"
    case expectedName = "E0103"
    case unclosedDelimiter = "E0104"
    case unexpectedClosingDelimiter = "E0105"
    case missingSeparator = "E0106"
    case nestingTooDeep = "E0107"
    case expressionStatement = "E0108"
    case invalidAssignmentTarget = "E0109"
    case invalidSkipTarget = "E0110"
    case rangeOutsideHeader = "E0111"
    case chainedComparison = "E0112"
    case positionalAfterKeyword = "E0113"
    case duplicateKeyword = "E0114"
    case positionalOption = "E0115"
    case emptyBrackets = "E0116"
    case elseWithoutIf = "E0117"
    case unknownType = "E0118"
    case scalarTypeWithDimensions = "E0119"
    case tensorTypeWithoutDimensions = "E0120"
    case tooManyErrors = "E0121"

    public var code: DiagnosticCode { DiagnosticCode(unchecked: rawValue) }

    public var title: String {
        switch self {
        case .unterminatedString: "unterminated string literal"
        case .unknownEscape: "unknown escape sequence in a string"
        case .invalidUnicodeEscape: "malformed `\\u{...}` escape"
        case .malformedNumber: "malformed number literal"
        case .numberOutOfRange: "number literal out of range"
        case .invalidCharacter: "character that cannot appear outside strings and comments"
        case .invalidUTF8: "bytes that are not valid UTF-8"
        case .singleQuotedString: "string in single quotes"
        case .expectedStatement: "a statement cannot start with this token"
        case .expectedToken: "a required token is missing"
        case .expectedExpression: "an expression is missing"
        case .expectedName: "a name is missing (or a keyword is used as a name)"
        case .unclosedDelimiter: "`(`, `[` or `{` without its closing partner"
        case .unexpectedClosingDelimiter: "`)`, `]` or `}` without an opening partner"
        case .missingSeparator: "two statements on one line without `;`"
        case .nestingTooDeep: "brackets, blocks or operators nested too deeply"
        case .expressionStatement: "an expression used as a statement has no effect"
        case .invalidAssignmentTarget: "the left side of an assignment is not assignable"
        case .invalidSkipTarget: "`skip` needs a module path"
        case .rangeOutsideHeader: "a range `a..<b` outside a `for` or `step` header"
        case .chainedComparison: "comparison operators chained"
        case .positionalAfterKeyword: "positional argument after a keyword argument"
        case .duplicateKeyword: "keyword argument or option given twice"
        case .positionalOption: "generate option without a name"
        case .emptyBrackets: "empty subscript or index list"
        case .elseWithoutIf: "`else` without `if`"
        case .unknownType: "unknown type name"
        case .scalarTypeWithDimensions: "scalar type with dimensions"
        case .tensorTypeWithoutDimensions: "tensor type without dimensions"
        case .tooManyErrors: "so many errors that the rest are not reported"
        }
    }

    public var entry: CatalogueEntry {
        CatalogueEntry(code: code, severity: .error, title: title)
    }
}
