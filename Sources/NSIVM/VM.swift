import Foundation
import NSIIR
import NSIModel
import NSIRuntime
import NSITensor

/// What one block ran on: its prompts, their token ids, and for a generate the new ids and text.
public struct BlockRecord: Sendable {
    public var kind: String
    public var prompts: [String]
    public var tokenIds: [[Int]]
    public var generatedIds: [[Int]]?
    public var generatedText: [String]?
    public var milliseconds: Double
}

/// The results of a run: saved values by key, in the order the script saves them.
public struct RunResults: @unchecked Sendable {
    public var values: [(key: String, value: RunValue)] = []
    public var blocks: [BlockRecord] = []
    public var instructionsExecuted = 0
    /// The most bytes the registers held at once.
    public var peakRegisterBytes = 0
    public var milliseconds: Double = 0

    public func value(_ key: String) -> RunValue? { values.first { $0.key == key }?.value }
}

/// Runs a checked program on a loaded model: one forward pass per trace (every invoke's
/// rows batched), one per generation step, with each instruction run at its point and
/// step on the rows of its invoke.
public final class VM {
    public let model: LanguageModel
    public let limits: VMLimits

    public init(model: LanguageModel, limits: VMLimits = VMLimits()) {
        self.model = model
        self.limits = limits
    }

    /// `params` binds run-time params by name (strings are parsed by the param's type).
    public func run(_ program: Program, params: [String: RunValue] = [:], progress: ((String) -> Void)? = nil) throws -> RunResults {
        let signature = model.signature
        guard signature.hash == program.signatureHash else {
            throw VMError("this plan was checked against another model (signature \(program.signatureHash.prefix(12))), not \(model.directory) (signature \(signature.hash.prefix(12)))")
        }
        let run = Execution(vm: self, program: program, params: params, progress: progress)
        return try run.execute()
    }
}

/// The state of one run.
final class Execution {
    let vm: VM
    let program: Program
    let boundParams: [String: RunValue]
    let progress: ((String) -> Void)?
    var registers: [RunValue?]
    var registerBytes = 0
    let liveness: Liveness
    var results = RunResults()
    var savedBytes = 0
    var executed = 0
    let start = Date()
    var transformer: Transformer { vm.model.transformer }

    /// Per block while it runs: the rows of each invoke, and the generation's outcome.
    var rowRanges: [Range<Int>] = []
    var generation: GenerationResult?
    var currentStep = 0

    init(vm: VM, program: Program, params: [String: RunValue], progress: ((String) -> Void)?) {
        self.vm = vm
        self.program = program
        self.boundParams = params
        self.progress = progress
        registers = Array(repeating: nil, count: program.instructions.count)
        liveness = Liveness(program)
    }

    func execute() throws -> RunResults {
        for p in boundParams.keys where !program.params.contains(where: { $0.name == p }) {
            throw VMError("the plan has no param `\(p)`")
        }
        // Instructions outside any block (params, prompt constants) come first.
        for ins in program.instructions where ins.anchor.block < 0 { try run(ins); release(after: ins) }
        for (index, block) in program.blocks.enumerated() {
            try runBlock(index, block)
        }
        results.instructionsExecuted = executed
        results.milliseconds = Date().timeIntervalSince(start) * 1000
        return results
    }

    // MARK: Blocks

    func prompts(of invoke: Invoke) throws -> [String] {
        if let p = invoke.prompts { return p }
        guard let name = invoke.promptParam, let id = program.instructions.first(where: { $0.op == .param(name) })?.id,
              case .str(let s)? = registers[id.index] else {
            throw VMError("the prompt param has no value", span: invoke.range)
        }
        return [s]
    }

    func runBlock(_ index: Int, _ block: ProgramBlock) throws {
        let blockStart = Date()
        let mine = program.instructions.filter { $0.anchor.block == index }
        var texts: [String] = []
        var ids: [[Int]] = []
        rowRanges = []
        for inv in block.invokes {
            let p = try prompts(of: inv)
            rowRanges.append(ids.count..<(ids.count + p.count))
            texts += p
            for text in p { ids.append(try vm.model.encode(text)) }
        }
        var byPoint: [Int: [Instruction]] = [:]
        var before: [Instruction] = [], after: [Instruction] = []
        for ins in mine {
            switch ins.anchor.phase {
            case .before: before.append(ins)
            case .after: after.append(ins)
            case .point(let p): byPoint[p, default: []].append(ins)
            }
        }
        let hooks = Hooks(points: transformer.points)
        for (point, list) in byPoint {
            hooks.add(point: point) { [unowned self] tensor, ctx in
                for ins in list where ins.anchor.steps.contains(ctx.step) {
                    try self.runAtPoint(ins, tensor)
                    self.release(after: ins)
                }
                return nil
            }
        }
        // Skips apply to the pass; rows of other invokes are restored by the skip emulation.
        generation = nil
        switch block.kind {
        case .trace:
            currentStep = 0
            try runBefore(before, step: 0, hooks: hooks)
            let maxPoint = byPoint.keys.max() ?? transformer.points.embed
            if maxPoint < transformer.points.logits { hooks.stopAfter = maxPoint }
            progress?("trace \(index): \(ids.count) rows, \(ids.map(\.count).max() ?? 0) tokens")
            _ = try transformer.trace(prompts: ids, hooks: hooks)
            results.blocks.append(BlockRecord(kind: "trace", prompts: texts, tokenIds: ids, generatedIds: nil, generatedText: nil,
                                              milliseconds: Date().timeIntervalSince(blockStart) * 1000))
        case .generate(let o):
            guard o.maxTokens <= vm.limits.maxGeneratedTokens else {
                throw VMError("max_tokens \(o.maxTokens) exceeds the limit of \(vm.limits.maxGeneratedTokens) generated tokens", span: block.range)
            }
            let options = SamplingOptions(maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, topP: o.topP, seed: UInt64(truncatingIfNeeded: o.seed))
            // Step-specific work that needs no point runs when its step begins (the embed hook is the first of each pass).
            try runBefore(before.filter { $0.anchor.steps.contains(0) }, step: 0, hooks: hooks)
            let embed = transformer.points.embed
            hooks.add(point: embed) { [unowned self] _, ctx in
                if ctx.step > 0 {
                    self.currentStep = ctx.step
                    try self.runBefore(before.filter { $0.anchor.steps.contains(ctx.step) }, step: ctx.step, hooks: hooks)
                }
                return nil
            }
            let r = try transformer.generate(prompts: ids, options: options, hooks: hooks) { [unowned self] step, _ in
                self.progress?("generate \(index): step \(step + 1)/\(o.maxTokens)")
            }
            generation = r
            results.blocks.append(BlockRecord(kind: "generate", prompts: texts, tokenIds: ids, generatedIds: r.generated,
                                              generatedText: r.generated.map { (try? vm.model.decode($0)) ?? "" },
                                              milliseconds: Date().timeIntervalSince(blockStart) * 1000))
        }
        currentStep = 0
        for ins in after { try run(ins); release(after: ins) }
    }

    /// Instructions that need no point: values, and skips (which set the pass's hooks).
    func runBefore(_ list: [Instruction], step: Int, hooks: Hooks) throws {
        // Skips hold for the steps they name only.
        for i in hooks.skipModule.indices { hooks.skipModule[i] = false }
        for ins in list where ins.anchor.steps.contains(step) {
            if case .skip(let module) = ins.op {
                guard try guardAllows(ins) else { continue }
                try applySkip(module, ins, hooks: hooks, step: step)
                continue
            }
            try run(ins)
            release(after: ins)
        }
    }

    /// A skip for the whole batch uses the runtime's skip; for some invokes' rows it is
    /// emulated: the module's input rows are kept and written over its output.
    func applySkip(_ module: Int, _ ins: Instruction, hooks: Hooks, step: Int) throws {
        let table = transformer.points
        let m = table.modules[module]
        let skippedEverywhere = rowRanges.count == 1
        if skippedEverywhere {
            hooks.skipModule[module] = true
            return
        }
        let ids = table.layers[m.layer]
        let (input, output): (Int, Int)
        switch m.kind {
        case .layer: (input, output) = (m.layer == 0 ? table.embed : table.layers[m.layer - 1].output, ids.output)
        case .attn: (input, output) = (ids.attnNorm, ids.attnOutput)
        case .mlp: (input, output) = (ids.mlpNorm, ids.mlpOutput)
        }
        let rows = rowRanges[ins.anchor.invoke ?? 0]
        var kept: Tensor?
        hooks.add(point: input) { t, ctx in
            if ctx.step == step { kept = t.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).copy() }
            return nil
        }
        hooks.add(point: output) { t, ctx in
            if ctx.step == step, let kept { t.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).assign(kept) }
            return nil
        }
    }

    // MARK: Instructions

    func guardAllows(_ ins: Instruction) throws -> Bool {
        guard let g = ins.anchor.guardValue else { return true }
        guard let v = registers[g.index], let t = v.truth else {
            throw VMError("the condition of this `if` has no single truth value", span: ins.range)
        }
        return t
    }

    func checkDeadline(_ span: SourceSpan?) throws {
        if let d = vm.limits.deadline, Date().timeIntervalSince(start) > d {
            throw VMError("the run exceeded its deadline of \(d) s", span: span)
        }
    }

    func value(_ id: ValueID, _ ins: Instruction) throws -> RunValue {
        guard let v = registers[id.index] else { throw VMError("internal: \(id) used before it was computed", span: ins.range) }
        return v
    }

    func tensor(_ id: ValueID, _ ins: Instruction) throws -> Tensor {
        guard let t = try value(id, ins).tensor else { throw VMError("internal: \(id) is not a tensor", span: ins.range) }
        return t
    }

    func set(_ id: ValueID, _ v: RunValue, _ ins: Instruction) throws {
        if let old = registers[id.index] { registerBytes -= old.bytes }
        registers[id.index] = v
        registerBytes += v.bytes
        results.peakRegisterBytes = max(results.peakRegisterBytes, registerBytes)
        if registerBytes > vm.limits.maxRegisterBytes {
            throw VMError("the run holds more than \(vm.limits.maxRegisterBytes) bytes of intermediate values", span: ins.range)
        }
    }

    /// Runs an instruction anchored at a point, on the hook's tensor for the whole batch.
    func runAtPoint(_ ins: Instruction, _ batch: Tensor) throws {
        guard try guardAllows(ins) else { return }
        let rows = rowRanges[ins.anchor.invoke ?? 0]
        let mine = batch.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound)
        switch ins.op {
        case .readPoint:
            try count(ins)
            try set(ins.id, .tensor(mine.copy()), ins)
        case .write(_, let index, let fn, let valueID):
            try count(ins)
            let target = try applyIndex(mine, index, ins, forWrite: true)
            let v = try tensor(valueID, ins).cast(to: .f32)
            guard Tensor.broadcastShape(target.shape, v.shape) == target.shape else {
                throw VMError("cannot write \(describeShape(v.shape)) into \(describeShape(target.shape))", span: ins.range)
            }
            switch fn {
            case .set: target.assign(v)
            case .add: target.binaryInPlace(.add, v)
            case .sub: target.binaryInPlace(.sub, v)
            case .mul: target.binaryInPlace(.mul, v)
            case .div: target.binaryInPlace(.div, v)
            }
        default:
            try run(ins)
        }
    }

    func count(_ ins: Instruction) throws {
        executed += 1
        if executed > vm.limits.maxInstructions {
            throw VMError("the run executed more than \(vm.limits.maxInstructions) instructions", span: ins.range)
        }
        try checkDeadline(ins.range)
    }
}
