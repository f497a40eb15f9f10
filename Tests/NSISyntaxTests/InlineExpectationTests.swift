import NSISource
import Testing

@Suite struct InlineExpectationTests {
    func diagnostic(_ code: String, at offset: Int) -> Diagnostic {
        Diagnostic(code: DiagnosticCode(code), severity: .error, message: "m", primary: Label(.empty(at: offset)))
    }

    @Test func readsOneOrSeveralExpectationsPerComment() {
        let file = SourceFile(path: "t.nsi", text: "let s = \"#\"  # expect: E0102 @ 1:3\n# expect: E0104 @ 2:1, W0201 @ 9:9\n")
        let (expectations, malformed) = InlineExpectations.parse(file)
        #expect(malformed.isEmpty)
        #expect(expectations.map(\.description) == ["E0102 @ 1:3", "E0104 @ 2:1", "W0201 @ 9:9"])
    }

    @Test func malformedExpectationsAreReported() {
        let file = SourceFile(path: "t.nsi", text: "# expect: E12 @ 1:1\n# expect: E0102 at 3\n")
        let report = InlineExpectations.check([], against: file)
        #expect(report.malformed.count == 2)
        #expect(!report.passed)
    }

    @Test func missingAndUnexpectedAreBothListed() {
        let file = SourceFile(path: "t.nsi", text: "abc\n# expect: E0101 @ 1:2\n")
        let report = InlineExpectations.check([diagnostic("E0102", at: 1)], against: file)
        #expect(report.missing.map(\.description) == ["E0101 @ 1:2"])
        #expect(report.unexpected.map(\.description) == ["E0102 @ 1:2"])
        let ok = InlineExpectations.check([diagnostic("E0101", at: 1)], against: file)
        #expect(ok.passed)
    }
}
