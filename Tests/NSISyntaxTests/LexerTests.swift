import NSISource
@testable import NSISyntax
import Testing

@Suite struct LexerTests {
    func kinds(_ text: String) -> [TokenKind] {
        Lexer.tokenize(SourceFile(path: "t.nsi", text: text)).tokens.map(\.kind).dropLast().map { $0 }
    }

    func diagnostics(_ text: String) -> [String] {
        Lexer.tokenize(SourceFile(path: "t.nsi", text: text)).diagnostics.map(\.code.rawValue)
    }

    @Test func operatorsTakeTheLongestMatch() {
        #expect(kinds("** * *= ..< ... . == = != <= < >= > += -= /= @ %") == [
            .starStar, .star, .starAssign, .rangeUpTo, .ellipsis, .dot, .equal, .assign, .notEqual,
            .lessEqual, .less, .greaterEqual, .greater, .plusAssign, .minusAssign, .slashAssign, .at, .percent,
        ])
    }

    @Test func keywordsAndNames() {
        #expect(kinds("let lets model model_ _x step") == [
            .keyword(.let), .identifier, .keyword(.model), .identifier, .identifier, .keyword(.step),
        ])
    }

    @Test func aRangeAfterAnIntegerIsNotAFloat() {
        #expect(kinds("0..<5") == [.integer, .rangeUpTo, .integer])
        #expect(kinds("2. 2.5 .5 1e-3 2.e5 1_000") == [.float, .float, .float, .float, .float, .integer])
        #expect(kinds("2.abs") == [.integer, .dot, .identifier])
    }

    @Test func newlinesAreTokensAndCommentsAreTrivia() {
        let (tokens, _) = Lexer.tokenize(SourceFile(path: "t.nsi", text: "a # note\nb"))
        #expect(tokens.map(\.kind) == [.identifier, .newline, .identifier, .endOfFile])
        #expect(tokens[1].leadingTrivia.map(\.kind) == [.whitespace, .comment])
    }

    @Test func stringValuesAreDecoded() {
        let (tokens, diagnostics) = Lexer.tokenize(SourceFile(path: "t.nsi", text: #""a\"b\\c\n\t\u{e9}""#))
        #expect(diagnostics.isEmpty)
        #expect(tokens[0].stringValue == "a\"b\\c\n\t\u{e9}")
    }

    @Test func lexicalErrorsHaveTheirCodes() {
        #expect(diagnostics("\"abc") == ["E0001"])
        #expect(diagnostics(#""\q""#) == ["E0002"])
        #expect(diagnostics(#""\u{zz}""#) == ["E0003"])
        #expect(diagnostics("12ab") == ["E0004"])
        #expect(diagnostics("99999999999999999999") == ["E0005"])
        #expect(diagnostics("a $$ b") == ["E0006"])
        #expect(diagnostics("'x'") == ["E0008"])
    }

    @Test func invalidUTF8IsReportedNotFatal() {
        let file = SourceFile(path: "t.nsi", bytes: [0x61, 0xFF, 0xFE, 0x20, 0x62, 0x20, 0x23, 0xC3])
        let (tokens, diagnostics) = Lexer.tokenize(file)
        #expect(diagnostics.map(\.code.rawValue) == ["E0007", "E0007"])
        #expect(tokens.map(\.kind) == [.identifier, .invalid, .identifier, .endOfFile])
    }

    /// Trivia and tokens together are the source, byte for byte.
    @Test(arguments: ["Samples/patching.nsi", "wellformed/comments.nsi", "malformed/lex_invalid_utf8.nsi"])
    func tokensReproduceTheSource(_ path: String) {
        let file = WellFormedScriptTests.load(path)
        let (tokens, _) = Lexer.tokenize(file)
        var bytes: [UInt8] = []
        for token in tokens {
            for trivia in token.leadingTrivia { bytes += file.bytes[trivia.range.start..<trivia.range.end] }
            bytes += file.bytes[token.range.start..<token.range.end]
        }
        #expect(bytes == file.bytes)
    }
}
