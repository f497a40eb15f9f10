import Foundation
import NSICheck
import NSIIR
import NSISource
import NSISyntax
import NSITestSupport
import Testing

/// The table of built-in methods and functions is what the checker accepts: every row's
/// example checks and lowers to one of the row's ops, no name outside the table is accepted,
/// and misspellings are suggested from it.
@Suite struct BuiltinTableTests {
    func check(_ script: String) throws -> CheckResult {
        let parsed = Parser.parse(SourceFile(path: "builtins.nsi", text: script))
        #expect(!parsed.hasErrors, "\(script)")
        return Checker.check(parsed, signature: try Fixtures.signature("smollm2-135m"), baseDirectory: Fixtures.tests.appendingPathComponent("NSIBytecodeTests/Fixtures").path)
    }

    @Test(arguments: Builtin.table.map(\.name))
    func exampleChecksAndLowersToItsOps(_ name: String) throws {
        let row = try #require(Builtin.table.first { $0.name == name })
        let script = """
        trace "The capital of France is" {
            let h = model.layers[3].output
            save out = \(row.example)
        }
        """
        let result = try check(script)
        #expect(result.diagnostics.isEmpty, "\(row.example): \(result.diagnostics.map(\.message))")
        let kinds = Set(try #require(result.program).instructions.map(\.op.kind))
        #expect(row.ops.contains { kinds.contains($0) }, "\(row.example) lowers to none of \(row.ops.map(\.traits.name))")
        #expect(!row.summary.isEmpty)
        #expect((row.parameters?.count ?? 0) >= row.required)
    }

    @Test func namesAreUniqueAndNothingElseIsAccepted() throws {
        #expect(Set(Builtin.methodNames).count == Builtin.methodNames.count)
        #expect(Set(Builtin.functionNames).count == Builtin.functionNames.count)
        let method = try check(#"trace "Hi" { save s = model.layers[0].output.summ() }"#)
        #expect(method.diagnostics.map(\.message).contains { $0.contains("summ") })
        #expect(method.diagnostics.contains { $0.help?.contains("sum") == true || $0.message.contains("`sum`") || "\($0)".contains("sum") })
        let function = try check(#"trace "Hi" { save s = zeroes(3) }"#)
        #expect(function.program == nil && !function.diagnostics.isEmpty)
    }
}
