import NSISource

/// Turns source bytes into tokens, keeping spaces and comments as trivia.
///
/// Every newline becomes a token; the parser decides where newlines matter (they end
/// statements, except inside `( )` and `[ ]`). The lexer never stops: a bad character
/// or literal is reported and lexed as well as it can be, so the parser sees the rest.
public struct Lexer {
    let bytes: [UInt8]
    var offset = 0
    var tokens: [Token] = []
    var diagnostics: [Diagnostic] = []

    public static func tokenize(_ file: SourceFile) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        var lexer = Lexer(bytes: file.bytes)
        lexer.run()
        return (lexer.tokens, lexer.diagnostics)
    }

    static let keywords = Dictionary(uniqueKeysWithValues: Keyword.allCases.map { ($0.rawValue, $0) })

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func run() {
        while true {
            let trivia = lexTrivia()
            guard offset < bytes.count else {
                tokens.append(Token(kind: .endOfFile, range: .empty(at: bytes.count), leadingTrivia: trivia))
                return
            }
            var token = lexToken()
            token.leadingTrivia = trivia
            tokens.append(token)
        }
    }

    func peek(_ ahead: Int = 0) -> UInt8? {
        offset + ahead < bytes.count ? bytes[offset + ahead] : nil
    }

    mutating func report(_ message: SyntaxMessage, _ range: SourceRange) {
        diagnostics.append(Diagnostic(message, at: range))
    }

    private mutating func lexTrivia() -> [Trivia] {
        var trivia: [Trivia] = []
        while let byte = peek() {
            let start = offset
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                while let next = peek(), next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\r") {
                    offset += 1
                }
                trivia.append(Trivia(kind: .whitespace, range: SourceRange(start: start, end: offset)))
            } else if byte == UInt8(ascii: "#") {
                while let next = peek(), next != UInt8(ascii: "\n") { skipScalar(reportingInvalidUTF8: true) }
                trivia.append(Trivia(kind: .comment, range: SourceRange(start: start, end: offset)))
            } else {
                break
            }
        }
        return trivia
    }

    /// Steps over one scalar; reports invalid bytes once per run of them.
    mutating func skipScalar(reportingInvalidUTF8: Bool) {
        let (scalar, length) = UTF8Scan.scalar(in: bytes, at: offset)
        guard scalar == nil else { offset += length; return }
        let start = offset
        while offset < bytes.count, bytes[offset] >= 0x80, UTF8Scan.scalar(in: bytes, at: offset).scalar == nil {
            offset += 1
        }
        if reportingInvalidUTF8 { report(.invalidUTF8, SourceRange(start: start, end: offset)) }
    }

    private mutating func lexToken() -> Token {
        let start = offset
        let byte = bytes[offset]
        if byte == UInt8(ascii: "\n") {
            offset += 1
            return Token(kind: .newline, range: SourceRange(start: start, end: offset))
        }
        if byte.isIdentifierStart { return lexIdentifier() }
        if byte.isDigit || (byte == UInt8(ascii: ".") && peek(1)?.isDigit == true) { return lexNumber() }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { return lexString() }
        if let kind = lexPunctuation() {
            return Token(kind: kind, range: SourceRange(start: start, end: offset))
        }
        return lexInvalid()
    }

    private mutating func lexIdentifier() -> Token {
        let start = offset
        while let byte = peek(), byte.isIdentifierContinue { offset += 1 }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        let kind: TokenKind = Lexer.keywords[text].map { .keyword($0) } ?? .identifier
        return Token(kind: kind, range: SourceRange(start: start, end: offset))
    }

    /// Operators and delimiters, longest match first; nil when the byte starts none.
    private mutating func lexPunctuation() -> TokenKind? {
        let byte = bytes[offset]
        let next = peek(1)
        func take(_ count: Int, _ kind: TokenKind) -> TokenKind {
            offset += count
            return kind
        }
        switch UnicodeScalar(byte) {
        case "(": return take(1, .leftParen)
        case ")": return take(1, .rightParen)
        case "[": return take(1, .leftBracket)
        case "]": return take(1, .rightBracket)
        case "{": return take(1, .leftBrace)
        case "}": return take(1, .rightBrace)
        case ",": return take(1, .comma)
        case ":": return take(1, .colon)
        case ";": return take(1, .semicolon)
        case "@": return take(1, .at)
        case "%": return take(1, .percent)
        case ".":
            guard next == UInt8(ascii: ".") else { return take(1, .dot) }
            if peek(2) == UInt8(ascii: ".") { return take(3, .ellipsis) }
            if peek(2) == UInt8(ascii: "<") { return take(3, .rangeUpTo) }
            return nil
        case "+": return next == UInt8(ascii: "=") ? take(2, .plusAssign) : take(1, .plus)
        case "-": return next == UInt8(ascii: "=") ? take(2, .minusAssign) : take(1, .minus)
        case "*":
            if next == UInt8(ascii: "*") { return take(2, .starStar) }
            return next == UInt8(ascii: "=") ? take(2, .starAssign) : take(1, .star)
        case "/": return next == UInt8(ascii: "=") ? take(2, .slashAssign) : take(1, .slash)
        case "=": return next == UInt8(ascii: "=") ? take(2, .equal) : take(1, .assign)
        case "!": return next == UInt8(ascii: "=") ? take(2, .notEqual) : nil
        case "<": return next == UInt8(ascii: "=") ? take(2, .lessEqual) : take(1, .less)
        case ">": return next == UInt8(ascii: "=") ? take(2, .greaterEqual) : take(1, .greater)
        default: return nil
        }
    }

    /// A run of characters that start no token, reported once.
    private mutating func lexInvalid() -> Token {
        let start = offset
        var sawInvalidUTF8 = false
        repeat {
            if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "."), bytes[offset + 1] == UInt8(ascii: ".") {
                offset += 2   // `..` alone: a range written without `<`
            } else {
                sawInvalidUTF8 = sawInvalidUTF8 || UTF8Scan.scalar(in: bytes, at: offset).scalar == nil
                skipScalar(reportingInvalidUTF8: false)
            }
        } while offset < bytes.count && !startsToken(at: offset)
        let range = SourceRange(start: start, end: offset)
        if sawInvalidUTF8 {
            report(.invalidUTF8, range)
        } else {
            report(.invalidCharacter(String(decoding: bytes[start..<offset], as: UTF8.self)), range)
        }
        return Token(kind: .invalid, range: range)
    }

    /// Whether a token or trivia starts at `offset`: where a run of invalid characters stops.
    private func startsToken(at offset: Int) -> Bool {
        let byte = bytes[offset]
        if byte.isIdentifierContinue { return true }
        switch UnicodeScalar(byte) {
        case " ", "\t", "\r", "\n", "#", "\"", "'", "(", ")", "[", "]", "{", "}", ",", ":", ";", "@", "%",
             "+", "-", "*", "/", "=", "<", ">":
            return true
        case ".":
            return offset + 1 >= bytes.count || bytes[offset + 1] != UInt8(ascii: ".")
                || (offset + 2 < bytes.count && (bytes[offset + 2] == UInt8(ascii: ".") || bytes[offset + 2] == UInt8(ascii: "<")))
        case "!":
            return offset + 1 < bytes.count && bytes[offset + 1] == UInt8(ascii: "=")
        default:
            return false
        }
    }
}
