import NSISource
import NSISyntax
import Testing
import NSITestSupport

/// Text people read is pinned by golden files: rendered diagnostics (text and JSON) for
/// the scripts in Fixtures/golden/diagnostics, and `nsi fmt` output for those in
/// Fixtures/golden/fmt. Re-record with NSI_RECORD_GOLDEN=1 and review the diff.
@Suite struct GoldenTests {
    @Test(arguments: SyntaxFixtures.scripts(in: "golden/diagnostics"))
    func renderedDiagnostics(_ name: String) {
        let file = SyntaxFixtures.source("golden/diagnostics", name)
        let diagnostics = Parser.parse(file).diagnostics
        #expect(!diagnostics.isEmpty)
        let base = "golden/diagnostics/" + name.dropLast(".nsi".count)
        check(TextRenderer(useColor: false).render(diagnostics, in: file), base + ".txt")
        check(JSONRenderer().render(diagnostics, in: file), base + ".jsonl")
    }

    @Test(arguments: SyntaxFixtures.scripts(in: "golden/fmt"))
    func formattedScripts(_ name: String) {
        let result = Parser.parse(SyntaxFixtures.source("golden/fmt", name))
        #expect(!result.hasErrors)
        check(ScriptFormatter.format(result), "golden/fmt/\(name).formatted")
    }

    private func check(_ actual: String, _ path: String) {
        guard let expected = Golden.expected(path, actual: actual) else {
            Issue.record("missing golden file \(path); record it with NSI_RECORD_GOLDEN=1")
            return
        }
        #expect(actual == expected, "\(path) differs; \(Golden.difference(expected, actual))")
    }
}
