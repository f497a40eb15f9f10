import Foundation
import Testing
import NSICheck
import NSIIR
import NSISource
import NSISyntax
import NSITestSupport

/// Every script in Fixtures/failing carries its expected diagnostics inline
/// (`# expect: E0301 @ 6:41`); the checker must report exactly those.
@Suite struct FailingScriptTests {
    static let scripts = Fixtures.files(in: Fixtures.own("failing"))

    @Test(arguments: scripts)
    func reportsExactlyTheExpectedDiagnostics(script: URL) throws {
        let (file, parsed, result) = try checkFile(script)
        #expect(!parsed.hasErrors, "\(script.lastPathComponent) should parse: \(parsed.diagnostics.map(\.message))")
        guard let result else { return }
        let report = InlineExpectations.check(result.diagnostics, against: file)
        #expect(report.passed, "\(script.lastPathComponent):\n\(report)\n\(result.diagnostics.map { "  \($0.code) \($0.message)" }.joined(separator: "\n"))")
        #expect(!report.expected.isEmpty, "\(script.lastPathComponent) expects nothing")
    }

    /// Every checker code has at least one failing script that triggers it.
    @Test func everyCodeIsCovered() throws {
        var seen = Set<String>()
        for script in Self.scripts {
            let (_, _, result) = try checkFile(script)
            for d in result?.diagnostics ?? [] { seen.insert(d.code.rawValue) }
        }
        let missing = CheckCode.allCases.map(\.rawValue).filter { !seen.contains($0) }
        #expect(missing.isEmpty, "codes with no failing script: \(missing)")
        #expect(Self.scripts.count >= 60)
    }

    /// The language reference lists every checker code.
    @Test func referenceListsEveryCode() throws {
        let doc = try String(contentsOf: Fixtures.repository.appendingPathComponent("docs/language.md"), encoding: .utf8)
        let missing = CheckCode.allCases.map(\.rawValue).filter { !doc.contains("| \($0) |") }
        #expect(missing.isEmpty, "docs/language.md does not list \(missing)")
    }
}
