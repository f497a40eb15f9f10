import Foundation
import NSIBytecode
import NSICheck
import NSIIR
import NSIModel
import NSIOpt
import NSIRuntime
import NSISource
import NSISyntax
import NSITensor
import NSIVM

/// A model the server hosts: loaded once, shared by every job that names it.
public final class HostedModel: @unchecked Sendable {
    public let name: String
    public let model: LanguageModel
    public let target: PlanTarget
    let vm: VM

    public init(name: String, directory: String, limits: VMLimits) throws {
        self.name = name
        model = try LanguageModel(directory: directory)
        target = PlanRunner.target(model.signature)
        vm = VM(model: model, limits: limits)
    }

    public var signature: ModelSignature { model.signature }
}

/// Why a submission was refused before it was queued: the script's diagnostics, or the
/// plan verifier's message.
public struct PlanRejection: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// One job in a batch: its verified program, bound params and a cancel check.
struct BatchJob {
    var program: Program
    var params: [String: RunValue]
}

/// The one place the server compiles, verifies and runs plans. Everything the server
/// asks of the compiler and the VM goes through here, so that moving to the public `NSI`
/// library (and to the VM's shared runs) changes this file only.
enum PlanRunner {
    /// What the plan verifier needs of a model, from its signature.
    static func target(_ s: ModelSignature) -> PlanTarget {
        PlanTarget(signatureHash: s.hash, pointRanks: s.points.points.map { $0.shape.count }, pointNames: s.points.points.map(\.name),
                   moduleNames: s.points.modules.map(\.canonicalName), callables: Set(s.callables.map(\.name)))
    }

    /// Checks, optimizes and encodes a script exactly as `nsi compile` does, then verifies
    /// the bytes as a loader would. Params are bound by the checker, as `nsi run` binds them.
    /// `load(...)` is refused: it reads files, and the server's files are not the client's.
    static func compile(source: String, name: String, params: [String: String], model: HostedModel) throws(PlanRejection) -> Data {
        let file = SourceFile(path: name, text: source)
        let (tokens, _) = Lexer.tokenize(file)
        for (i, t) in tokens.enumerated() where t.kind == .identifier && file.text(in: t.range) == "load"
            && i + 1 < tokens.count && tokens[i + 1].kind == .leftParen {
            let at = file.location(of: t.range.start)
            throw PlanRejection("\(name):\(at.line):\(at.column): load(...) reads files, which a server does not do for its clients; compile the script where the file is (nsi compile) and submit the plan")
        }
        let parsed = Parser.parse(file)
        if parsed.hasErrors {
            throw PlanRejection(TextRenderer(useColor: false).render(parsed.diagnostics, in: file))
        }
        let checked = Checker.check(parsed, signature: model.signature, params: params, baseDirectory: "/nonexistent")
        guard var program = checked.program else {
            throw PlanRejection(TextRenderer(useColor: false).render(parsed.diagnostics + checked.diagnostics, in: file))
        }
        do {
            program = try Optimizer.optimize(program).0
            let data = try Bytecode.encode(program)
            _ = try Bytecode.decode(data, for: model.target)
            return data
        } catch {
            throw PlanRejection("internal: \(error)")
        }
    }

    /// Decodes and verifies plan bytes against the model; nothing runs that fails here.
    static func verify(_ plan: Data, for model: HostedModel) throws(PlanRejection) -> Program {
        do {
            return try Bytecode.decode(plan, for: model.target)
        } catch {
            throw PlanRejection("the plan does not verify: \(error)")
        }
    }

    /// Binds run-time params; a compile-time or unknown param is an error, as in `nsi run plan.nsb`.
    static func bind(_ program: Program, params: [String: String]) throws(PlanRejection) -> [String: RunValue] {
        var bound: [String: RunValue] = [:]
        for (name, value) in params.sorted(by: { $0.key < $1.key }) {
            guard let info = program.params.first(where: { $0.name == name }) else {
                throw PlanRejection("the plan has no param `\(name)`")
            }
            guard info.binding == .runTime else {
                throw PlanRejection("param `\(name)` was bound when the plan was compiled (it shapes the plan); compile again with --param \(name)=\(value)")
            }
            bound[name] = .str(value)
        }
        return bound
    }

    /// Whether two jobs may share one forward pass.
    static func canShare(_ a: Program, _ b: Program) -> Bool {
        // Until the VM's shared runs land, a batch runs its jobs one after another, so
        // any jobs may be grouped.
        true
    }

    /// Runs a batch: each job's outcome, one job's failure never failing another.
    static func runBatch(_ jobs: [BatchJob], on model: HostedModel, progress: @escaping (Int, String) -> Void) -> [Result<RunResults, Error>] {
        jobs.enumerated().map { i, job in
            Result { try model.vm.run(job.program, params: job.params, progress: { progress(i, $0) }) }
        }
    }

    /// The results file and its JSON sidecar, byte for byte what `nsi run --out` writes
    /// for the tensors.
    static func encode(_ results: RunResults, name: String, model: String) throws -> StoredResults {
        let data = try SafetensorsWriter.encode(ResultsFile.tensors(results), metadata: ["format": "pt", "producer": "nsi"])
        return StoredResults(safetensors: data, sidecar: ResultsFile.json(results, script: name, model: model))
    }
}
