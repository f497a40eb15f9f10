import Foundation
import NSI
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
        target = PlanTarget(model.signature)
        vm = VM(model: model, limits: limits)
    }

    public var signature: ModelSignature { model.signature }
}

/// Why a submission was refused before it was queued: the script's diagnostics, or the
/// plan verifier's message.
public struct PlanRejection: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// What a job refused when it is claimed fails as: `plan` or `param`.
    public let kind: JobFailure
    public init(_ message: String, kind: JobFailure = .plan) {
        description = message
        self.kind = kind
    }
}

/// One job in a batch: its verified program, bound params and what cancels it mid-run.
struct BatchJob {
    var program: Program
    var params: [String: RunValue]
    var cancellation = RunCancellation()
}

/// The one place the server compiles, verifies and runs plans: the same pipeline as
/// `nsi compile` and the embedding API, and the VM's shared runs for co-tenant batches.
enum PlanRunner {
    /// Checks, optimizes and encodes a script exactly as `nsi compile` does, then verifies
    /// the bytes as a loader would. Params are bound by the checker, as `nsi run` binds them.
    /// `load(...)` is refused by the checker's file policy (E0323): it reads files, and the
    /// server's files are not the client's.
    static func compile(source: String, name: String, params: [String: String], model: HostedModel, limits: VMLimits,
                        maxFLOPs: Double? = nil) throws(PlanRejection) -> Data {
        let file = SourceFile(path: name, text: source)
        let parsed = Parser.parse(file)
        let outcome = Pipeline.check(parsed, signature: model.signature, params: params, baseDirectory: "/nonexistent",
                                     files: .refused(Self.noFiles), optimize: true)
        if let problem = outcome.internalError { throw PlanRejection(problem) }
        guard let program = outcome.program else {
            throw PlanRejection(TextRenderer(useColor: false).render(outcome.diagnostics, in: file))
        }
        try admit(program, model: model, limits: limits, maxFLOPs: maxFLOPs)
        do {
            let data = try Bytecode.encode(program)
            _ = try Bytecode.decode(data, for: model.target)
            return data
        } catch {
            throw PlanRejection("internal: \(error)")
        }
    }

    /// What a job may ask for, refused at submission rather than when it runs: generated
    /// tokens within the server's limit, and every bound known before the run (positions,
    /// pass memory, the plan's own values, saved bytes; see `RunBounds`) within the job
    /// limits, with the params it will run with; and its forward passes' work within
    /// `maxFLOPs` (`--max-flops`).
    static func admit(_ program: Program, params: [String: String] = [:], model: HostedModel, limits: VMLimits,
                      maxFLOPs: Double? = nil) throws(PlanRejection) {
        for block in program.blocks {
            if case .generate(let o) = block.kind, o.maxTokens > limits.maxGeneratedTokens {
                throw PlanRejection("a generate block asks for max_tokens \(o.maxTokens); this server generates at most \(limits.maxGeneratedTokens) tokens per job")
            }
        }
        let bounds = model.vm.bounds(program, params: params.mapValues { .str($0) })
        let excess = bounds.excess(limits, maxFLOPs: maxFLOPs)
        if !excess.isEmpty {
            throw PlanRejection("the job would pass this server's limits before it ran: " + excess.joined(separator: "; "), kind: JobFailure("limit"))
        }
    }

    static let noFiles = "a server does not read files for its clients; compile the script where the file is (nsi compile) and submit the plan"

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
        do {
            try Pipeline.checkBindings(params.keys.sorted(), program: program) { name in
                "compile again with --param \(name)=\(params[name] ?? "")"
            }
        } catch {
            throw PlanRejection(error.message, kind: .param)
        }
        return params.mapValues { .str($0) }
    }

    /// Whether two jobs may share one forward pass (see `VM.canShare`).
    static func canShare(_ a: Program, _ b: Program) -> Bool { VM.canShare(a, b) }

    /// Runs a batch: a lone job as `nsi run` runs it; several in shared forward passes,
    /// each confined to its own rows. One job's failure or cancellation never fails another.
    static func runBatch(_ jobs: [BatchJob], on model: HostedModel, progress: @escaping (Int, String) -> Void) -> [Result<RunResults, Error>] {
        if jobs.count == 1, let job = jobs.first {
            return [Result { try model.vm.run(job.program, params: job.params, cancellation: job.cancellation, progress: { progress(0, $0) }) }]
        }
        let runs = jobs.map { SharedRun(program: $0.program, params: $0.params, cancellation: $0.cancellation) }
        return model.vm.runShared(runs) { line in
            for i in jobs.indices { progress(i, line + " (shared by \(jobs.count) jobs)") }
        }
    }

    /// The results file and its JSON sidecar, byte for byte what `nsi run --out` writes
    /// for the tensors.
    static func encode(_ results: RunResults, name: String, model: String) throws -> StoredResults {
        let data = try SafetensorsWriter.encode(ResultsFile.tensors(results), metadata: ["format": "pt", "producer": "nsi"])
        return StoredResults(safetensors: data, sidecar: ResultsFile.json(results, script: name, model: model))
    }
}
