import Foundation
import NSIIR
import NSIModel
import NSIOpt
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
    /// A trace whose rows shared prefixes: rows × layers computed against all of them.
    public var sharing: SharingReport? = nil
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

/// Stops a run from another thread: the run ends with a VMError at its next instruction
/// or hooked point.
public final class RunCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    public init() {}
    public func cancel() { lock.withLock { cancelled = true } }
    public var isCancelled: Bool { lock.withLock { cancelled } }
}

/// One plan of several run together in shared forward passes.
public struct SharedRun: @unchecked Sendable {
    public var program: Program
    public var params: [String: RunValue]
    public var cancellation: RunCancellation?
    public init(program: Program, params: [String: RunValue] = [:], cancellation: RunCancellation? = nil) {
        self.program = program
        self.params = params
        self.cancellation = cancellation
    }
}

/// Runs a checked program on a loaded model: one forward pass per trace (every invoke's
/// rows batched), one per generation step, with each instruction run at its point and
/// step on the rows of its invoke. A VM holds no per-run state: one VM (or several over
/// one model) may run plans from several threads at once.
public final class VM: Sendable {
    public let model: LanguageModel
    public let limits: VMLimits
    /// Reads used up within their hook are views of the pass's tensor (see `MemoryPlan`);
    /// off, every read is copied, as the checker's program says.
    public let elideCopies: Bool
    /// Rows of a trace with the same prompt share their computation until each is first
    /// looked at (see `RowSharing`); off, every row is computed from the start.
    public let sharePrefixes: Bool

    public init(model: LanguageModel, limits: VMLimits = VMLimits(), elideCopies: Bool = true, sharePrefixes: Bool = true) {
        self.model = model
        self.limits = limits
        self.elideCopies = elideCopies
        self.sharePrefixes = sharePrefixes
    }

    /// `params` binds run-time params by name (strings are parsed by the param's type).
    public func run(_ program: Program, params: [String: RunValue] = [:], cancellation: RunCancellation? = nil,
                    progress: ((String) -> Void)? = nil) throws -> RunResults {
        try checkSignature(program)
        let run = Execution(vm: self, program: program, params: params, cancellation: cancellation, shared: false, progress: progress)
        do {
            try Self.drive([run], progress: progress)
        } catch {
            throw VMError(wrapping: error)
        }
        if let failure = run.failure { throw VMError(wrapping: failure) }
        return run.finished()
    }

    /// Whether two plans can share forward passes: the same sequence of blocks, traces
    /// with traces, and generations with the same length and sampling settings (seeds may
    /// differ: every row samples from its own generator, seeded from its plan's seed and
    /// its row within the plan).
    public static func canShare(_ a: Program, _ b: Program) -> Bool {
        guard a.signatureHash == b.signatureHash, a.blocks.count == b.blocks.count else { return false }
        for (x, y) in zip(a.blocks, b.blocks) {
            switch (x.kind, y.kind) {
            case (.trace, .trace): continue
            case (.generate(let o), .generate(let p)):
                guard o.maxTokens == p.maxTokens, o.temperature == p.temperature, o.topK == p.topK, o.topP == p.topP else { return false }
            default: return false
            }
        }
        return true
    }

    /// Runs several plans together: each block's forward pass is shared by all of them,
    /// their invokes' rows stacked one plan after another. Every plan's reads, writes and
    /// skips touch its own rows only, and one plan's error or cancellation ends that plan
    /// alone. Plans that cannot share (see `canShare`) are refused with an error each.
    public func runShared(_ runs: [SharedRun], progress: ((String) -> Void)? = nil) -> [Result<RunResults, Error>] {
        guard let first = runs.first else { return [] }
        var executions: [Execution] = []
        var outcomes: [Result<RunResults, Error>?] = Array(repeating: nil, count: runs.count)
        var indices: [Int] = []
        for (i, r) in runs.enumerated() {
            do {
                try checkSignature(r.program)
                guard Self.canShare(first.program, r.program) else {
                    throw VMError(.mismatch, "this plan's blocks do not match the batch it was given with; run it alone")
                }
                executions.append(Execution(vm: self, program: r.program, params: r.params, cancellation: r.cancellation,
                                            shared: true, progress: nil))
                indices.append(i)
            } catch {
                outcomes[i] = .failure(error)
            }
        }
        do {
            try Self.drive(executions, progress: progress)
        } catch {
            // A failure of the pass itself (not of one plan's instructions) ends every plan.
            for e in executions where e.failure == nil { e.failure = VMError(wrapping: error) }
        }
        for (e, i) in zip(executions, indices) {
            outcomes[i] = e.failure.map { .failure($0) } ?? .success(e.finished())
        }
        return outcomes.map { $0! }
    }

    func checkSignature(_ program: Program) throws {
        let signature = model.signature
        guard signature.hash == program.signatureHash else {
            throw VMError(.mismatch, "this plan was checked against another model (signature \(program.signatureHash.prefix(12))), not \(model.directory) (signature \(signature.hash.prefix(12)))")
        }
    }

    /// Runs executions block by block; block i of every live execution shares one pass.
    static func drive(_ runs: [Execution], progress: ((String) -> Void)?) throws {
        for run in runs { run.capture { try run.begin() } }
        guard let program = runs.first?.program else { return }
        let transformer = runs[0].transformer
        for (index, block) in program.blocks.enumerated() {
            let blockStart = Date()
            var live: [(Execution, BlockSetup)] = []
            for run in runs where run.failure == nil {
                run.capture { live.append((run, try run.setUp(block: index))) }
            }
            guard !live.isEmpty else { return }
            let hooks = Hooks(points: transformer.points)
            var rows = 0
            var maxPoint = transformer.points.embed
            let length = live.map { $0.1.length }.max() ?? 0
            for (run, setup) in live {
                // Each plan's own block: the blocks match in kind, not in invokes.
                run.capture { try run.install(setup, block: run.program.blocks[index], rowOffset: rows, padding: length - setup.length, hooks: hooks) }
                rows += setup.ids.count
                maxPoint = max(maxPoint, setup.byPoint.keys.max() ?? transformer.points.embed)
            }
            // A plan refused while setting up (a limit, a missing prompt) does not run; when
            // none is left, neither does the pass.
            guard live.contains(where: { $0.0.failure == nil }) else { return }
            let ids = live.flatMap { $0.1.ids }
            var generation: GenerationResult?
            switch block.kind {
            case .trace:
                if maxPoint < transformer.points.logits { hooks.stopAfter = maxPoint }
                progress?("trace \(index): \(ids.count) rows, \(ids.map(\.count).max() ?? 0) tokens")
                let sharing = runs[0].vm.sharePrefixes ? firstWrites(live, block: index, rows: rows) : nil
                hooks.logitPositions = logitPositions(live, block: index, rows: rows)
                _ = try transformer.trace(prompts: ids, hooks: hooks, logits: .none, sharing: sharing)
                if let report = hooks.sharingReport {
                    progress?("trace \(index): shared prefixes, \(report.tokenLayersComputed) of \(report.tokenLayersTotal) token-layers computed")
                }
            case .generate(let o):
                let options = SamplingOptions(maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, topP: o.topP,
                                              seed: UInt64(truncatingIfNeeded: o.seed))
                // Each plan's rows draw as they would alone.
                var seeds: [UInt64] = []
                for (run, setup) in live {
                    guard case .generate(let mine) = run.program.blocks[index].kind else { continue }
                    seeds += setup.ids.indices.map { rowSeed(UInt64(truncatingIfNeeded: mine.seed), row: $0) }
                }
                generation = try transformer.generate(prompts: ids, options: options, rowSeeds: seeds, hooks: hooks) { step, tokens in
                    for (run, _) in live { run.noteStep(step, tokens: tokens) }
                    progress?("generate \(index): step \(step + 1)/\(o.maxTokens)")
                }
            }
            let ms = Date().timeIntervalSince(blockStart) * 1000
            for (run, setup) in live where run.failure == nil {
                run.capture { try run.finish(setup, block: run.program.blocks[index], generation: generation, milliseconds: ms) }
                if run.failure == nil, let report = hooks.sharingReport, live.count == 1 { run.results.blocks[run.results.blocks.count - 1].sharing = report }
            }
        }
    }
}

extension VM {
    /// Per row of a trace pass: where its plan first writes it (see `PrefixSharing`), in
    /// the pass's positions. A plan that did not set up is written from the start.
    static func firstWrites(_ live: [(Execution, BlockSetup)], block: Int, rows: Int) -> RowSharing {
        guard let transformer = live.first?.0.transformer else { return RowSharing(firstWrite: [], firstPosition: []) }
        var layer = [Int?](repeating: 0, count: rows), position = Array(repeating: 0, count: rows)
        for (run, setup) in live {
            let perInvoke = PrefixSharing.firstWrites(run.program, block: block, points: transformer.points,
                                                      layers: transformer.config.numLayers, tokens: setup.length) { id in
                run.registers[id.index]?.intValue
            }
            for (k, range) in run.rowRanges.enumerated() where k < perInvoke.count {
                for r in range where r < rows {
                    guard run.failure == nil else { continue }
                    layer[r] = perInvoke[k]?.layer
                    // The plan's positions are the pass's last `setup.length` ones.
                    position[r] = perInvoke[k].map { min($0.position, setup.length) + run.padding } ?? 0
                }
            }
        }
        return RowSharing(firstWrite: layer, firstPosition: position)
    }
}

extension VM {
    /// Per row of a trace pass: the positions of the logits its plan uses (see
    /// `PrefixSharing.logitPositions`), in the pass's positions; nil: any.
    static func logitPositions(_ live: [(Execution, BlockSetup)], block: Int, rows: Int) -> [[Int]?] {
        guard let transformer = live.first?.0.transformer else { return [] }
        var wanted = [[Int]?](repeating: nil, count: rows)
        for (run, setup) in live where run.failure == nil {
            let perInvoke = PrefixSharing.logitPositions(run.program, block: block, points: transformer.points,
                                                         tokens: setup.length) { run.registers[$0.index]?.intValue }
            for (k, range) in run.rowRanges.enumerated() where k < perInvoke.count {
                for r in range where r < rows { wanted[r] = perInvoke[k].map { $0.map { $0 + run.padding } } }
            }
        }
        return wanted
    }
}

/// One plan's share of a block: its prompts and its instructions by phase.
struct BlockSetup {
    var texts: [String] = []
    var ids: [[Int]] = []
    var before: [Instruction] = []
    var after: [Instruction] = []
    var byPoint: [Int: [Instruction]] = [:]
    /// The longest prompt: this plan's rows alone would be left-padded to it.
    var length: Int { ids.map(\.count).max() ?? 0 }
}

/// The state of one run.
final class Execution {
    let vm: VM
    let program: Program
    let boundParams: [String: RunValue]
    let progress: ((String) -> Void)?
    let cancellation: RunCancellation?
    /// Sharing passes with other runs: errors are kept here rather than ending the pass,
    /// and skips are emulated on this run's rows.
    let shared: Bool
    var failure: Error?
    var registers: [RunValue?]
    /// Bytes each register holds of its own (a view holds none).
    var held: [Int]
    var registerBytes = 0
    let memory: MemoryPlan
    var results = RunResults()
    var savedBytes = 0
    var executed = 0
    let start = Date()
    var transformer: Transformer { vm.model.transformer }

    /// Per block while it runs: the rows of each invoke, and the generation's outcome.
    var rowRanges: [Range<Int>] = []
    var generation: GenerationResult?
    /// The last generate block's outcome: `result` in every later block.
    var lastGenerated: GenerationResult?
    var currentStep = 0
    /// In a shared generation: the step after which all of this run's rows had ended.
    var endedAfterStep: Int?
    var ended: Set<Int> = []
    /// Leading prompt positions of the shared pass that are not this run's (see `install`).
    var padding = 0

    init(vm: VM, program: Program, params: [String: RunValue], cancellation: RunCancellation?, shared: Bool,
         progress: ((String) -> Void)?) {
        self.vm = vm
        self.program = program
        self.boundParams = params
        self.cancellation = cancellation
        self.shared = shared
        self.progress = progress
        registers = Array(repeating: nil, count: program.instructions.count)
        held = Array(repeating: 0, count: program.instructions.count)
        memory = MemoryPlan(program, elideCopies: vm.elideCopies)
    }

    /// Runs `body`; alone, an error ends the pass, shared it ends this run only.
    func capture(_ body: () throws -> Void) {
        guard failure == nil else { return }
        do { try body() } catch { failure = VMError(wrapping: error) }
    }

    /// Work inside a hook: errors propagate when alone (ending the pass), and are kept
    /// when shared.
    func hooked(_ body: () throws -> Void) throws {
        guard failure == nil else { return }
        if shared {
            capture(body)
        } else {
            try body()
        }
    }

    func begin() throws {
        for p in boundParams.keys where !program.params.contains(where: { $0.name == p }) {
            throw VMError(.param, "the plan has no param `\(p)`")
        }
        try checkCancelled(nil)
        // Instructions outside any block (params, prompt constants) come first.
        for ins in program.instructions where ins.anchor.block < 0 { try run(ins); release(after: ins) }
    }

    func finished() -> RunResults {
        results.instructionsExecuted = executed
        results.milliseconds = Date().timeIntervalSince(start) * 1000
        return results
    }

    // MARK: Blocks

    func prompts(of invoke: Invoke) throws -> [String] {
        if let p = invoke.prompts { return p }
        guard let name = invoke.promptParam, let id = program.instructions.first(where: { $0.op == .param(name) })?.id,
              case .str(let s)? = registers[id.index] else {
            throw VMError(.param, "the prompt param has no value", span: invoke.range)
        }
        return [s]
    }

    /// Encodes the block's prompts and sorts its instructions by phase.
    func setUp(block index: Int) throws -> BlockSetup {
        var s = BlockSetup()
        for inv in program.blocks[index].invokes {
            let p = try prompts(of: inv)
            s.texts += p
            for text in p { s.ids.append(try vm.model.encode(text)) }
        }
        for ins in program.instructions where ins.anchor.block == index {
            switch ins.anchor.phase {
            case .before: s.before.append(ins)
            case .after: s.after.append(ins)
            case .point(let p): s.byPoint[p, default: []].append(ins)
            }
        }
        return s
    }

    /// Places this run's rows at `rowOffset` in the pass and adds its hooks; runs the
    /// work due before the pass. `padding` is how many more prompt positions the shared
    /// pass has than this run alone would: its hooks see the last positions only, so that
    /// a plan sees the same shapes and values whoever it shares the pass with.
    func install(_ s: BlockSetup, block: ProgramBlock, rowOffset: Int, padding: Int, hooks: Hooks) throws {
        self.padding = padding
        rowRanges = []
        var row = rowOffset
        for inv in block.invokes {
            let n = inv.prompts?.count ?? 1
            rowRanges.append(row..<(row + n))
            row += n
        }
        generation = nil
        currentStep = 0
        endedAfterStep = nil
        ended = []
        for (point, list) in s.byPoint {
            hooks.add(point: point) { [unowned self] tensor, ctx in
                try self.hooked {
                    if let e = self.endedAfterStep, ctx.step > e { return }
                    for ins in list where ins.anchor.steps.contains(ctx.step) {
                        try self.runAtPoint(ins, tensor, point: point, step: ctx.step)
                        self.release(after: ins)
                    }
                }
                return nil
            }
        }
        if cancellation != nil || vm.limits.deadline != nil {
            // Between layers too, so that a pass with few hooks still stops soon.
            for layer in transformer.points.layers {
                hooks.add(point: layer.output) { [unowned self] _, _ in
                    try self.hooked { try self.checkCancelled(nil) }
                    return nil
                }
            }
        }
        switch block.kind {
        case .trace:
            try runBefore(s.before, step: 0, hooks: hooks)
        case .generate(let o):
            guard o.maxTokens <= vm.limits.maxGeneratedTokens else {
                throw VMError(.limit(.generatedTokens), "max_tokens \(o.maxTokens) exceeds the limit of \(vm.limits.maxGeneratedTokens) generated tokens", span: block.range)
            }
            // Step-specific work that needs no point runs when its step begins (the embed hook is the first of each pass).
            try runBefore(s.before.filter { $0.anchor.steps.contains(0) }, step: 0, hooks: hooks)
            let before = s.before
            hooks.add(point: transformer.points.embed) { [unowned self] _, ctx in
                if ctx.step > 0 {
                    try self.hooked {
                        if let e = self.endedAfterStep, ctx.step > e { return }
                        self.currentStep = ctx.step
                        try self.runBefore(before.filter { $0.anchor.steps.contains(ctx.step) }, step: ctx.step, hooks: hooks)
                    }
                }
                return nil
            }
        }
    }

    /// After a generation step: notes when every row of this run has ended (a shared
    /// generation goes on for other runs' rows; this run's hooks stop, as they would alone).
    func noteStep(_ step: Int, tokens: [Int]) {
        guard shared, endedAfterStep == nil, let all = rowRanges.first?.lowerBound, let end = rowRanges.last?.upperBound else { return }
        ended.formUnion((all..<end).filter { transformer.config.eosTokenIds.contains(tokens[$0]) })
        if (all..<end).allSatisfy({ ended.contains($0) }) { endedAfterStep = step }
    }

    /// The pass is over: records the block and runs the work due after it.
    func finish(_ s: BlockSetup, block: ProgramBlock, generation shared: GenerationResult?, milliseconds: Double) throws {
        switch block.kind {
        case .trace:
            results.blocks.append(BlockRecord(kind: "trace", prompts: s.texts, tokenIds: s.ids, generatedIds: nil, generatedText: nil,
                                              milliseconds: milliseconds))
        case .generate:
            guard let all = shared, let lo = rowRanges.first?.lowerBound, let hi = rowRanges.last?.upperBound else { break }
            let ids = Array(all.ids[lo..<hi]), generated = Array(all.generated[lo..<hi])
            let mine = GenerationResult(ids: ids, generated: generated, steps: endedAfterStep.map { $0 + 1 } ?? all.steps)
            // Alone, rows are 0..<n; shared, this run's rows are renumbered from 0 for what follows.
            generation = mine
            lastGenerated = mine
            results.blocks.append(BlockRecord(kind: "generate", prompts: s.texts, tokenIds: s.ids, generatedIds: mine.generated,
                                              generatedText: mine.generated.map { (try? vm.model.decode($0)) ?? "" },
                                              milliseconds: milliseconds))
        }
        currentStep = 0
        for ins in s.after { try run(ins); release(after: ins) }
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
        let skippedEverywhere = !shared && rowRanges.count == 1
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
            throw VMError(.input, "the condition of this `if` has no single truth value", span: ins.range)
        }
        return t
    }

    /// Drops the registers whose last use `ins` was.
    func release(after ins: Instruction) {
        for r in memory.releaseAfter[ins.id.index] {
            registerBytes -= held[r]
            held[r] = 0
            registers[r] = nil
        }
    }

    func checkCancelled(_ span: SourceSpan?) throws {
        if cancellation?.isCancelled == true { throw VMError(.cancelled, "the run was cancelled", span: span) }
        try checkDeadline(span)
    }

    func checkDeadline(_ span: SourceSpan?) throws {
        if let d = vm.limits.deadline, Date().timeIntervalSince(start) > d {
            throw VMError(.limit(.deadline), "the run exceeded its deadline of \(d) s", span: span)
        }
    }

    func value(_ id: ValueID, _ ins: Instruction) throws -> RunValue {
        guard let v = registers[id.index] else { throw VMError(.internal, "internal: \(id) used before it was computed", span: ins.range) }
        return v
    }

    func tensor(_ id: ValueID, _ ins: Instruction) throws -> Tensor {
        guard let t = try value(id, ins).tensor else { throw VMError(.internal, "internal: \(id) is not a tensor", span: ins.range) }
        return t
    }

    func set(_ id: ValueID, _ v: RunValue, _ ins: Instruction) throws {
        registerBytes -= held[id.index]
        registers[id.index] = v
        held[id.index] = memory.storage[id.index] == .view ? 0 : v.bytes
        registerBytes += held[id.index]
        results.peakRegisterBytes = max(results.peakRegisterBytes, registerBytes)
        if registerBytes > vm.limits.maxRegisterBytes {
            throw VMError(.limit(.registerBytes), "the run holds more than \(vm.limits.maxRegisterBytes) bytes of intermediate values", span: ins.range)
        }
    }

    /// Runs an instruction anchored at a point, on the hook's tensor for the whole batch.
    func runAtPoint(_ ins: Instruction, _ batch: Tensor, point: Int, step: Int) throws {
        guard try guardAllows(ins) else { return }
        let rows = rowRanges[ins.anchor.invoke ?? 0]
        var mine = batch.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound)
        if padding > 0 {
            let template = transformer.points.points[point].shape
            if template.count == mine.rank {
                for (d, dim) in template.enumerated() where dim == .keys || (dim == .tokens && step == 0) {
                    mine = mine.slice(dim: d, start: padding, end: mine.shape[d])
                }
            }
        }
        switch ins.op {
        case .readPoint:
            try count(ins)
            try set(ins.id, .tensor(memory.storage[ins.id.index] == .view ? mine : mine.copy()), ins)
        case .write(_, let index, let fn, let valueID):
            try count(ins)
            let target = try applyIndex(mine, index, ins, forWrite: true)
            let v = try tensor(valueID, ins).cast(to: .f32)
            guard Tensor.broadcastShape(target.shape, v.shape) == target.shape else {
                throw VMError(.input, "cannot write \(describeShape(v.shape)) into \(describeShape(target.shape))", span: ins.range)
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
            throw VMError(.limit(.instructions), "the run executed more than \(vm.limits.maxInstructions) instructions", span: ins.range)
        }
        try checkCancelled(ins.range)
    }
}
