import NSISource
import Testing

@Suite struct SourceFileTests {
    @Test func locationsAreOneBasedAndCountScalars() {
        let file = SourceFile(path: "t.nsi", text: "ab\n\u{e9}x\r\n\tz")
        #expect(file.location(of: 0) == SourceLocation(line: 1, column: 1))
        #expect(file.location(of: 2) == SourceLocation(line: 1, column: 3))
        #expect(file.location(of: 3) == SourceLocation(line: 2, column: 1))
        #expect(file.location(of: 5) == SourceLocation(line: 2, column: 2))   // after the two bytes of é
        #expect(file.location(of: 9) == SourceLocation(line: 3, column: 2))   // a tab is one column
        #expect(file.lineText(2) == "\u{e9}x")                                 // without \r\n
        #expect(file.lineCount == 3)
    }

    @Test func offsetsPastTheEndAreClamped() {
        let file = SourceFile(path: "t.nsi", text: "a\n")
        #expect(file.location(of: 100) == SourceLocation(line: 2, column: 1))
        #expect(file.text(in: SourceRange(start: 0, end: 100)) == "a\n")
    }

    @Test func codesFollowTheScheme() {
        #expect(DiagnosticCode("E0102").stage == 1)
        #expect(DiagnosticCode("W0201").number == 201)
        #expect(!DiagnosticCode.isWellFormed("E12"))
        #expect(!DiagnosticCode.isWellFormed("X0001"))
        // Lexical codes are 00xx and syntax codes 01xx.
        for code in SyntaxCode.allCases {
            #expect(code.code.stage <= 1)
        }
        #expect(DiagnosticCatalogue.entries.count == SyntaxCode.allCases.count)
    }
}
