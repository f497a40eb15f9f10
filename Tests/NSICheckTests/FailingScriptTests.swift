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

    /// A product with a weight whose inner sizes differ says that the weight's `.T` would
    /// fit, and only when it would.
    @Test func productHelpNamesTheOperandToTranspose() throws {
        let signature = try Fixtures.signature("smollm2-135m")
        func help(_ expr: String) -> String? {
            let text = "trace \"Hi\" {\n    let h = model.layers[1].output[0]\n    let a = model.layers[1].mlp.act[0]\n    save m = \(expr)\n}\n"
            let result = Checker.check(Parser.parse(SourceFile(path: "m.nsi", text: text)), signature: signature)
            #expect(result.diagnostics.map(\.code.rawValue) == ["E0309"], "\(expr)")
            return result.diagnostics.first?.help
        }
        #expect(help("h @ model.layers[1].mlp.up_proj.weight")?.contains("right operand transposed fits") == true)
        #expect(help("model.layers[1].mlp.down_proj.weight @ h.T")?.contains("left operand transposed fits") == true)
        #expect(help("h @ model.layers[1].mlp.down_proj.weight.T") == nil)
        #expect(help("h @ a") == nil)   // h.T @ a fits, but neither is a weight
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
