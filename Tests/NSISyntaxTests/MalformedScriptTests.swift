import NSISource
import NSISyntax
import Testing
import NSITestSupport

/// Every script in Fixtures/malformed carries its expected diagnostics as
/// `# expect: CODE @ LINE:COL` comments; the parser must report exactly those.
@Suite struct MalformedScriptTests {
    static let names = SyntaxFixtures.scripts(in: "malformed")

    @Test(arguments: names)
    func reportsExactlyTheExpectedDiagnostics(_ name: String) {
        let file = SyntaxFixtures.source("malformed", name)
        let result = Parser.parse(file)
        let report = InlineExpectations.check(result.diagnostics, against: file)
        #expect(!report.expected.isEmpty, "\(name) expects nothing: a malformed script must expect an error")
        #expect(report.passed, "\(name):\n\(report)")
    }

    @Test func thereAreAtLeastFortyCases() {
        #expect(Self.names.count >= 40)
    }

    @Test func someCasesHaveSeveralErrors() {
        let counts = Self.names.map { InlineExpectations.parse(SyntaxFixtures.source("malformed", $0)).expectations.count }
        #expect(counts.filter { $0 >= 3 }.count >= 5)
    }

    /// Every lexical and syntax code is exercised by at least one case.
    @Test func everyCodeIsCovered() {
        var covered = Set<DiagnosticCode>()
        for name in Self.names {
            for expectation in InlineExpectations.parse(SyntaxFixtures.source("malformed", name)).expectations {
                covered.insert(expectation.code)
            }
        }
        let missing = SyntaxCode.allCases.map(\.code).filter { !covered.contains($0) }
        #expect(missing.isEmpty, "codes without a malformed case: \(missing)")
    }
}
