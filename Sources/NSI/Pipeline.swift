import Foundation
import NSIBytecode
import NSICheck
import NSIIR
import NSIModel
import NSIOpt
import NSISource
import NSISyntax

// The steps from script text to a runnable program, shared by this library's public
// API and by the `nsi` commands (package access: no other package sees them).

/// What checking a script gave: the program when it has no errors, every diagnostic
/// (parse and check), and what each optimizer pass did.
package struct CheckOutcome: Sendable {
    package var program: Program?
    package var diagnostics: [NSISource.Diagnostic]
    package var passes: [PassReport] = []
    /// An optimizer failure (an internal error, never the script's fault).
    package var internalError: String?
}

package enum Pipeline {
    /// Checks a parsed script against a signature, then (unless `optimize` is false)
    /// runs the optimizer's passes. A script with parse errors is not checked.
    package static func check(_ parsed: ParseResult, signature: ModelSignature, params: [String: String],
                              baseDirectory: String, files: FilePolicy? = nil, optimize: Bool) -> CheckOutcome {
        guard !parsed.hasErrors else { return CheckOutcome(program: nil, diagnostics: parsed.diagnostics) }
        let result = Checker.check(parsed, signature: signature, params: params, baseDirectory: baseDirectory, files: files)
        var outcome = CheckOutcome(program: result.program, diagnostics: parsed.diagnostics + result.diagnostics)
        guard optimize, let program = result.program else { return outcome }
        do {
            let (optimized, reports) = try Optimizer.optimize(program)
            outcome.program = optimized
            outcome.passes = reports
        } catch {
            outcome.program = nil
            outcome.internalError = "internal: \(error)"
        }
        return outcome
    }

    /// Checks run-time bindings against a plan's params: every name must be a param of
    /// the plan, and not one fixed when it was compiled. Values are checked by type when
    /// the run reads them.
    /// `compileAgain` says how to compile the plan with that param instead.
    package static func checkBindings(_ names: some Sequence<String>, program: Program,
                                      compileAgain: (String) -> String) throws(BindingError) {
        for name in names {
            guard let info = program.params.first(where: { $0.name == name }) else {
                throw BindingError(message: "the plan has no param `\(name)`"
                    + (program.params.isEmpty ? "" : " (its params: " + program.params.map(\.name).joined(separator: ", ") + ")"))
            }
            guard info.binding == .runTime else {
                throw BindingError(message: "param `\(name)` was bound when the plan was compiled (it shapes the plan); " + compileAgain(name))
            }
        }
    }
}

package struct BindingError: Error, CustomStringConvertible, Sendable {
    package let message: String
    package var description: String { message }
}

extension PlanTarget {
    /// What the plan verifier needs of a model, from its signature.
    package init(_ s: ModelSignature) {
        self.init(signatureHash: s.hash, pointRanks: s.points.points.map { $0.shape.count }, pointNames: s.points.points.map(\.name),
                  moduleNames: s.points.modules.map(\.canonicalName), callables: Set(s.callables.map(\.name)),
                  weights: Dictionary(s.weights.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a }),
                  pointSizes: s.points.points.map { $0.shape.map { if case .fixed(let n) = $0 { return n }; return nil } })
    }
}
