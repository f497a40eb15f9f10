import Foundation
import NSIBytecode
import NSIIR
import NSISource
import NSISyntax
import NSITensor

/// A checked, optimized program for one model, ready to run any number of times, from
/// any number of threads. Made by compiling a script against a loaded model, or by
/// decoding the bytes of a compiled plan (`nsi compile` writes the same bytes), which
/// are verified completely before the plan exists.
public struct Plan: Sendable {
    let program: Program
    /// The script's path, or `plan` for decoded bytes: results' JSON names it.
    let name: String
    /// Whether the VM may hand reads to their hook as views (off for a plan compiled
    /// without the optimizer, as `nsi run --no-optimize` does).
    let elideCopies: Bool
    /// The plan as compact, verified bytecode (what `nsi compile` writes to a .nsb file).
    public let bytes: Data
    /// Warnings the compiler gave (a plan with errors does not exist).
    public let warnings: [Diagnostic]

    /// A param of the plan.
    public struct Param: Sendable, Equatable {
        public enum Binding: String, Sendable {
            /// Fixed when the plan was compiled: it shapes the plan (a loop bound, a prompt list).
            case compileTime = "compile time"
            /// Bound on each run; the default when a run does not bind it.
            case runTime = "run time"
        }
        public let name: String
        /// As the language writes it: `str`, `float`, `int`, `bool`, `f32[1, 576]`.
        public let type: String
        public let binding: Binding
        /// The value given at compile time, or the declared default, as the language
        /// writes it; nil for a param that must be bound on each run.
        public let value: String?
    }

    public var params: [Param] {
        program.params.map { p in
            Param(name: p.name, type: p.type.description, binding: p.binding == .runTime ? .runTime : .compileTime,
                  value: p.value.map(\.description) ?? p.tensorDefault.map { "tensor \(describeShape($0.shape))" })
        }
    }

    /// The keys the plan saves, in order (a topk save gives `key.values` and `key.indices` results).
    public var saves: [String] { program.saves.map(\.key) }

    /// Compiles `source` against `model`: parse, check (names, shapes, causality,
    /// params), optimize, encode and verify. `path` names the script in diagnostics and
    /// is where `load(...)` paths in it are resolved from; `params` fixes params at
    /// compile time (by their text, as `nsi compile --param` does).
    /// Throws `CompileError` with every diagnostic when the script has errors.
    public init(compiling source: String, for model: Model, path: String = "script.nsi",
                params: [String: String] = [:], optimize: Bool = true) throws {
        let file = SourceFile(path: path, text: source)
        let parsed = Parser.parse(file)
        let base = (path as NSString).deletingLastPathComponent
        let outcome = Pipeline.check(parsed, signature: model.model.signature, params: params,
                                     baseDirectory: base.isEmpty ? "." : base, optimize: optimize)
        let diagnostics = outcome.diagnostics.map { Diagnostic($0, in: file) }
        if let internalError = outcome.internalError { throw NSIError(.internal, internalError) }
        guard let program = outcome.program else {
            throw CompileError(diagnostics: diagnostics, report: TextRenderer().report(outcome.diagnostics, in: file))
        }
        do {
            let data = try Bytecode.encode(program)
            // What a loader will do: a plan that could not be read back is not handed out.
            _ = try Bytecode.decode(data, for: model.target)
            self.program = program
            bytes = data
            name = path
            elideCopies = optimize
        } catch {
            throw NSIError(.internal, "internal: the compiled plan does not verify: \(error)")
        }
        warnings = diagnostics
    }

    /// Decodes and verifies plan bytes against `model`: the format, every instruction,
    /// and that the plan was compiled for this model's signature.
    public init(bytes: Data, for model: Model) throws(NSIError) {
        do {
            program = try Bytecode.decode(bytes, for: model.target)
        } catch {
            throw NSIError(.plan, "\(error)")
        }
        self.bytes = bytes
        name = "plan"
        elideCopies = true
        warnings = []
    }
}

extension Plan {
    /// The plan's review text, as `nsi dump` prints it for the same plan bytes: params,
    /// each block's batch, hooks in forward order, where the pass stops, saves, memory
    /// and cost (`model` must be the one the plan was made for).
    public func dump(for model: Model) throws(NSIError) -> String {
        do {
            let program = try Bytecode.decode(bytes, for: model.target)
            let header = try Bytecode.header(bytes)
            return PlanDump(program: program, signature: model.model.signature, name: (name as NSString).lastPathComponent,
                            model: (model.directory as NSString).lastPathComponent, header: header, elideCopies: elideCopies).render()
        } catch {
            throw NSIError(.plan, "\(error)")
        }
    }
}
