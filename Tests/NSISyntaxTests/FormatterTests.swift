import NSISource
import NSISyntax
import Testing

/// Formatting rules on small inputs, each checked for idempotence and the same tree.
@Suite struct FormatterTests {
    func format(_ text: String) -> String {
        let file = SourceFile(path: "t.nsi", text: text)
        let roundTrip = RoundTrip(file)
        #expect(roundTrip.problems.isEmpty, "\(roundTrip.problems)")
        return roundTrip.formatted
    }

    @Test func blankLinesAreKeptAsAtMostOne() {
        #expect(format("\n\nparam a: int = 1\n\n\n\nparam b: int = 2\ntrace p {\n\n    let x = 1\n\n}\n")
            == "param a: int = 1\n\nparam b: int = 2\ntrace p {\n    let x = 1\n}\n")
    }

    @Test func semicolonsAndOneLineBlocksAreSplit() {
        #expect(format("trace p { let a = 1; let b = 2 }  # both\n")
            == "trace p {  # both\n    let a = 1\n    let b = 2\n}\n")
    }

    @Test func emptyBlocksCloseOnTheirLineUnlessTheyHoldComments() {
        #expect(format("trace p {\n}\ntrace q {\n    # later\n}\n") == "trace p {}\ntrace q {\n    # later\n}\n")
    }

    @Test func aCommentBeforeElseMovesIntoTheElseBlock() {
        #expect(format("if a {\n    let x = 1\n}\n# why\nelse {\n    let y = 2\n}\n")
            == "if a {\n    let x = 1\n} else {\n    # why\n    let y = 2\n}\n")
    }

    @Test func literalsAreCanonical() {
        #expect(format("let a = [.5, 2., 2.e5, 1_000, \"\\u{e9}\\u{1}\"]\n")
            == "let a = [0.5, 2.0, 2.0e5, 1_000, \"\u{e9}\\u{1}\"]\n")
    }

    @Test func windowsLineEndingsBecomeNewlines() {
        #expect(format("param a: int = 1\r\n# note\r\nparam b: int = 2\r\n") == "param a: int = 1\n# note\nparam b: int = 2\n")
    }

    @Test func operatorsAndKeywordArgumentsAreSpaced() {
        #expect(format("let a=-x**-2*(b+c)@d%e/f\nlet b=h.sum(dim=1,keepdim=true)[:,-1,::2]\n")
            == "let a = -x ** -2 * (b + c) @ d % e / f\nlet b = h.sum(dim = 1, keepdim = true)[:, -1, ::2]\n")
    }

    @Test func anEmptyScriptStaysEmpty() {
        #expect(format("") == "")
        #expect(format("\n\n# only a comment\n") == "# only a comment\n")
    }
}
