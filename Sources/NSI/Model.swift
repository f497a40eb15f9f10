import Foundation
import NSIBytecode
import NSIRuntime
import NSIVM

/// A model folder loaded once: the weights (memory-mapped, read-only, shared by every
/// run), the tokenizer and the signature scripts are checked against. Safe to use from
/// any number of threads at once: each run keeps its own state.
public final class Model: Sendable {
    let model: LanguageModel
    let target: PlanTarget

    /// Loads a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).
    public init(directory: String) throws(NSIError) {
        do {
            model = try LanguageModel(directory: directory)
        } catch {
            throw NSIError(.model, "\(error)")
        }
        target = PlanTarget(model.signature)
    }

    public var directory: String { model.directory }
    /// The signature's hash: a plan runs only on a model with the same one.
    public var signatureHash: String { model.signature.hash }
    /// The signature as `nsi signature` prints it: dimensions, access points, modules.
    public var signature: String { model.signature.canonicalText() }

    /// The text of token ids, as the model's tokenizer decodes them (special tokens
    /// included); nil for a model folder without a tokenizer or an id outside its vocabulary.
    public func decode(_ ids: [Int]) -> String? {
        guard let tokenizer = model.tokenizer, ids.allSatisfy({ $0 >= 0 && $0 < tokenizer.vocabSize }) else { return nil }
        return tokenizer.decode(ids)
    }

    /// Runs `plan` with run-time `params` (by name; unbound ones take their defaults).
    /// Many runs may go at once on one model, of one plan or several. `progress`, if
    /// given, is called on the running thread after each block starts and each generated
    /// token ("generate 0: step 3/400"); it may cancel the run.
    public func run(_ plan: Plan, params: [String: Value] = [:], cancellation: Cancellation? = nil,
                    limits: Limits = Limits(), progress: ((String) -> Void)? = nil) throws(NSIError) -> Results {
        let program = plan.program
        // The VM refuses a plan of another model (kind mismatch, here `.plan`).
        do {
            try Pipeline.checkBindings(params.keys, program: program) { _ in "compile again with it in `params`" }
        } catch {
            throw NSIError(.param, error.message)
        }
        var bound: [String: RunValue] = [:]
        for (name, value) in params {
            guard let info = program.params.first(where: { $0.name == name }) else { continue }
            bound[name] = try value.bound(to: info)
        }
        let vm = VM(model: model, limits: limits.vm, elideCopies: plan.elideCopies)
        do {
            let results = try vm.run(program, params: bound, cancellation: cancellation?.token, progress: progress)
            return Results(results, planName: plan.name, model: model)
        } catch {
            throw NSIError(VMError(wrapping: error))
        }
    }
}

extension NSIError {
    /// The embedding API's kind for each way a run can stop.
    init(_ e: VMError) {
        switch e.kind {
        case .cancelled: self.init(.cancelled, e.description)
        case .limit: self.init(.limit, e.description)
        case .param: self.init(.param, e.description)
        case .mismatch: self.init(.plan, e.description)
        case .input: self.init(.run, e.description)
        case .internal: self.init(.internal, e.description)
        }
    }
}

/// Bounds a run may not pass; each has its own error.
public struct Limits: Sendable {
    /// Seconds of wall-clock time for the whole run.
    public var deadline: Double?
    public var maxGeneratedTokens = 4096
    /// Bytes of intermediate values held at once.
    public var maxRegisterBytes = 4 << 30

    public init(deadline: Double? = nil) {
        self.deadline = deadline
    }

    var vm: VMLimits {
        VMLimits(maxRegisterBytes: maxRegisterBytes, maxGeneratedTokens: maxGeneratedTokens, deadline: deadline)
    }
}
