import Foundation
import NSIIR
import NSIModel
import NSIRuntime
import NSITensor

// The interpreter of one run: its registers, its hooks on the shared forward pass, its
// instructions. The scheduler that drives several runs through one pass is VM.swift.

/// One plan's share of a block: its prompts and its instructions by phase.
struct BlockSetup {
    var texts: [String] = []
    var ids: [[Int]] = []
    var before: [Instruction] = []
    var after: [Instruction] = []
    var byPoint: [Int: [Instruction]] = [:]
    /// Work on the reverse pass, by the point whose gradient it waits for.
    var byGrad: [Int: [Instruction]] = [:]
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
    /// Per register: its node on the recording pass's tape (see Gradients.swift).
    var nodes: [Int?]
    /// The tape of the block that records, and whether values are recorded now (not
    /// during the reverse pass itself).
    var tape: Tape?
    var recording = false
    /// A recorded top-k's operand, by the top-k's register: its node and shape.
    var topkSources: [Int: (node: Int, shape: [Int])] = [:]
    /// Bytes each register holds of its own (a view holds none).
    var held: [Int]
    var registerBytes = 0
    let memory: MemoryPlan
    var results = RunResults()
    var savedBytes = 0
    var executed = 0
    let start = Date()
    /// In a shared batch: the time every member spent in its own instructions, so that a
    /// run's deadline counts the batch's passes (charged to all their members) and its own
    /// instructions, not its neighbours' (nil alone: all time is the run's).
    var batchClock: BatchClock?
    /// Seconds this run spent in its own instructions.
    var ownSeconds = 0.0
    var transformer: Transformer { vm.model.transformer }

    /// Per block while it runs: the rows of each invoke, and the generation's outcome.
    var rowRanges: [Range<Int>] = []
    var generation: GenerationResult?
    /// The last generate block's outcome: `result` in every later block.
    var lastGenerated: GenerationResult?
    /// The width of `result.ids`: the longest prompt plus max_tokens, whether or not every
    /// row ran that long (the checker gives the type this width).
    var generatedWidth = 0
    var currentStep = 0
    /// In a shared generation: the step after which all of this run's rows had ended.
    var endedAfterStep: Int?
    var ended: Set<Int> = []
    /// Leading prompt positions of the shared pass that are not this run's (see `install`).
    var padding = 0
    /// The block's prompt lengths, per invoke and row, and the longest (what
    /// `model.attention_mask` shows).
    var promptLengths: [[Int]] = []
    var promptWidth = 0

    init(vm: VM, program: Program, params: [String: RunValue], cancellation: RunCancellation?, shared: Bool,
         progress: ((String) -> Void)?) {
        self.vm = vm
        self.program = program
        self.boundParams = params
        self.cancellation = cancellation
        self.shared = shared
        self.progress = progress
        registers = Array(repeating: nil, count: program.instructions.count)
        nodes = Array(repeating: nil, count: program.instructions.count)
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
        for (p, given) in boundParams {
            guard let info = program.params.first(where: { $0.name == p }) else { throw VMError(.param, "the plan has no param `\(p)`") }
            // A compile-time param shaped the plan: another value at run time would be ignored.
            if info.binding == .compileTime, let fixed = info.value, !Self.same(try given.bound(to: info), RunValue.from(fixed).coerced(to: info.type)) {
                throw VMError(.param, "param `\(p)` is fixed when compiling (it shapes the plan) at \(fixed); compile the script again with the new value")
            }
        }
        try checkCancelled(nil)
        // Instructions outside any block (params, prompt constants) come first.
        for ins in program.instructions where ins.anchor.block < 0 { try run(ins); release(after: ins) }
    }

    static func same(_ a: RunValue, _ b: RunValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.int(let x), .float(let y)), (.float(let y), .int(let x)): return Double(x) == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.str(let x), .str(let y)): return x == y
        default: return false
        }
    }

    func finished() -> RunResults {
        results.instructionsExecuted = executed
        results.milliseconds = Date().timeIntervalSince(start) * 1000
        return results
    }

    // MARK: Blocks

    /// An invoke's rows: each prompt's text (decoded, for token ids) and token ids.
    func prompts(of invoke: Invoke, block: Int, index k: Int) throws -> [(text: String, ids: [Int])] {
        if let p = invoke.prompts { return try p.map { ($0, try vm.model.encode($0)) } }
        if let name = invoke.promptParam {
            guard let id = program.instructions.first(where: { $0.op == .param(name) })?.id, case .str(let s)? = registers[id.index] else {
                throw VMError(.param, "the prompt param has no value", span: invoke.range)
            }
            return [(s, try vm.model.encode(s))]
        }
        // The value the invoke's `prompt` instruction names, computed before this block.
        guard let ins = program.instructions.first(where: { $0.anchor.block == block && $0.anchor.invoke == k && $0.op.kind == .prompt }),
              case .prompt(let v) = ins.op, let value = registers[v.index] else {
            throw VMError(.input, "the invoke's prompt has no value", span: invoke.range)
        }
        switch value {
        case .str(let s): return [(s, try vm.model.encode(s))]
        case .strings(let list): return try list.map { ($0, try vm.model.encode($0)) }
        case .tensor(let t) where t.dtype.isInteger && (t.rank == 1 || t.rank == 2):
            let width = t.shape.last!, rows = t.rank == 1 ? 1 : t.shape[0]
            guard width > 0 else { throw VMError(.input, "a prompt of token ids needs at least one token", span: ins.range) }
            let all = t.toInt64s(), vocab = transformer.config.vocabSize
            return try (0..<rows).map { r in
                let ids = all[(r * width)..<((r + 1) * width)].map { Int($0) }
                if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
                    throw VMError(.input, "prompt row \(r) has token id \(bad), outside the vocabulary of \(vocab)", span: ins.range)
                }
                return ((try? vm.model.decode(ids)) ?? "", ids)
            }
        default:
            throw VMError(.input, "a prompt is a str, a str list or integer token ids [T] or [rows, T], not \(value)", span: ins.range)
        }
    }

    /// Encodes the block's prompts and sorts its instructions by phase.
    func setUp(block index: Int) throws -> BlockSetup {
        var s = BlockSetup()
        for (k, inv) in program.blocks[index].invokes.enumerated() {
            let rows = try prompts(of: inv, block: index, index: k)
            guard rows.count == inv.rows else {
                throw VMError(.internal, "invoke \(k) has \(rows.count) prompt rows where the plan says \(inv.rows)", span: inv.range)
            }
            for (text, ids) in rows {
                s.texts.append(text)
                s.ids.append(ids)
            }
        }
        try checkPositions(s, block: program.blocks[index])
        for ins in program.instructions where ins.anchor.block == index {
            switch ins.anchor.phase {
            case .before: s.before.append(ins)
            case .after: s.after.append(ins)
            case .point(let p): s.byPoint[p, default: []].append(ins)
            case .grad(let p): s.byGrad[p, default: []].append(ins)
            }
        }
        return s
    }

    /// Before a block's pass: its prompts (and the tokens it generates) fit the model's
    /// positions, and its attention scores, the largest buffer a pass holds, fit the run's
    /// memory, so a long prompt stops with a limit instead of an allocation no one allowed.
    func checkPositions(_ s: BlockSetup, block: ProgramBlock) throws {
        let config = vm.model.transformer.config
        var generated = 0
        if case .generate(let o) = block.kind { generated = o.maxTokens }
        let longest = s.length
        guard longest + generated <= config.maxPositions else {
            throw VMError(.limit(.positions), "the prompt's \(longest) tokens" + (generated > 0 ? " and \(generated) generated" : "")
                          + " exceed the model's \(config.maxPositions) positions", span: block.range)
        }
        let rows = s.ids.count
        let pass = PassMemory(config: config, rows: rows, tokens: longest, generated: generated)
        guard pass.scoreBytes <= vm.limits.maxRegisterBytes else {
            throw VMError(.limit(.registerBytes), "a pass over \(rows) prompts of \(longest) tokens needs \(RunBounds.describe(pass.scoreBytes)) "
                          + "of attention scores, more than the limit of \(vm.limits.maxRegisterBytes) bytes of intermediate values", span: block.range)
        }
        // The keys and values every layer keeps for the pass (and the steps after it), and
        // the widest activations of one layer, for every row: a trace of many rows stops
        // here, not in an allocation the limit did not allow.
        guard pass.cacheAndActivationBytes <= vm.limits.maxRegisterBytes else {
            throw VMError(.limit(.registerBytes), "a pass over \(rows) prompts of \(longest) tokens" + (generated > 0 ? " (and \(generated) generated)" : "")
                          + " needs \(RunBounds.describe(pass.cacheAndActivationBytes)) of cached keys and values and activations, "
                          + "more than the limit of \(vm.limits.maxRegisterBytes) bytes of intermediate values", span: block.range)
        }
    }

    /// Places this run's rows at `rowOffset` in the pass and adds its hooks; runs the
    /// work due before the pass. `padding` is how many more prompt positions the shared
    /// pass has than this run alone would: its hooks see the last positions only, so that
    /// a plan sees the same shapes and values whoever it shares the pass with.
    func install(_ s: BlockSetup, block: ProgramBlock, rowOffset: Int, padding: Int, hooks: Hooks) throws {
        self.padding = padding
        rowRanges = []
        promptLengths = []
        promptWidth = s.length
        var row = rowOffset
        for inv in block.invokes {
            let n = inv.rows
            promptLengths.append(s.ids[(row - rowOffset)..<(row - rowOffset + n)].map(\.count))
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
        case .generate(let o):
            guard let all = shared, let lo = rowRanges.first?.lowerBound, let hi = rowRanges.last?.upperBound else { break }
            generatedWidth = (s.ids.map(\.count).max() ?? 0) + o.maxTokens
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
    /// emulated: a layer's input rows are kept and written over its output; an attention's
    /// or MLP's output rows are zeroed (it contributes nothing, as in the runtime).
    func applySkip(_ module: Int, _ ins: Instruction, hooks: Hooks, step: Int) throws {
        let table = transformer.points
        let m = table.modules[module]
        let skippedEverywhere = !shared && rowRanges.count == 1
        if skippedEverywhere {
            hooks.skipModule[module] = true
            return
        }
        let ids = table.layers[m.layer]
        if m.kind != .layer {
            let rows = rowRanges[ins.anchor.invoke ?? 0]
            hooks.add(point: m.kind == .attn ? ids.attnOutput : ids.mlpOutput) { [unowned self] t, ctx in
                guard ctx.step == step else { return nil }
                t.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).fill(0)
                if self.recording, let tape = self.tape, let from = tape.current {
                    tape.current = try tape.record([from], shape: t.shape) { g in
                        let dx = g.copy()
                        dx.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).fill(0)
                        return [dx]
                    }
                }
                return nil
            }
            return
        }
        let (input, output): (Int, Int)
        switch m.kind {
        case .layer: (input, output) = (m.layer == 0 ? table.embed : table.layers[m.layer - 1].output, ids.output)
        case .attn: (input, output) = (ids.attnNorm, ids.attnOutput)
        case .mlp: (input, output) = (ids.mlpNorm, ids.mlpOutput)
        }
        let rows = rowRanges[ins.anchor.invoke ?? 0]
        var kept: Tensor?
        // On a recording pass the kept rows and the overwrite are nodes too, so the
        // gradient of those rows skips the module as the values do.
        var keptNode: Int?
        hooks.add(point: input) { [unowned self] t, ctx in
            if ctx.step == step {
                let mine = t.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).copy()
                kept = mine
                if self.recording, let tape = self.tape, let from = tape.current {
                    let full = t.shape
                    keptNode = try tape.record([from], shape: mine.shape) { g in
                        let dx = Tensor(zeros: full)
                        dx.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).assign(g)
                        return [dx]
                    }
                }
            }
            return nil
        }
        hooks.add(point: output) { [unowned self] t, ctx in
            if ctx.step == step, let kept {
                t.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).assign(kept)
                if self.recording, let tape = self.tape, let from = tape.current {
                    tape.current = try tape.record([from, keptNode], shape: t.shape) { g in
                        let dx = g.copy()
                        dx.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).fill(0)
                        return [dx, g.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).contiguous()]
                    }
                }
            }
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
        guard let d = vm.limits.deadline else { return }
        let neighbours = batchClock.map { $0.instructionSeconds - ownSeconds } ?? 0
        if Date().timeIntervalSince(start) - neighbours > d {
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

    /// Charges a tensor of `shape` (elements of `elementBytes`) to the run's memory before
    /// it is allocated: sizes in checked arithmetic, and over the limit a clean error, never
    /// an allocation the process cannot make.
    func reserve(_ shape: [Int], elementBytes: Int = 4, _ ins: Instruction) throws {
        var bytes = elementBytes
        for d in shape {
            guard d >= 0 else { throw VMError(.input, "a negative dimension in \(describeShape(shape))", span: ins.range) }
            let (r, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw VMError(.limit(.registerBytes), "a tensor of shape \(describeShape(shape)) is larger than memory can hold", span: ins.range)
            }
            bytes = r
        }
        guard bytes <= vm.limits.maxRegisterBytes - registerBytes else {
            throw VMError(.limit(.registerBytes), "a tensor of shape \(describeShape(shape)) (\(bytes) bytes) would pass the run's limit of "
                          + "\(vm.limits.maxRegisterBytes) bytes of intermediate values", span: ins.range)
        }
    }

    func set(_ id: ValueID, _ v: RunValue, _ ins: Instruction) throws {
        try checkDeclared(v, ins)
        registerBytes -= held[id.index]
        registers[id.index] = v
        held[id.index] = memory.storage[id.index] == .view ? 0 : v.bytes
        registerBytes += held[id.index]
        results.peakRegisterBytes = max(results.peakRegisterBytes, registerBytes)
        if registerBytes > vm.limits.maxRegisterBytes {
            throw VMError(.limit(.registerBytes), "the run holds more than \(vm.limits.maxRegisterBytes) bytes of intermediate values", span: ins.range)
        }
    }

    /// A tensor result has the dtype, rank and known sizes its instruction declares. The
    /// verifier derives what it can of a result's type from its operands; this holds the
    /// rest (sizes that depend on run-time values), so no later instruction, and no
    /// kernel, sees a value of another type than the plan said.
    func checkDeclared(_ v: RunValue, _ ins: Instruction) throws {
        guard case .tensor(let dtype, let dims)? = ins.type, case .tensor(let t) = v else { return }
        var fits = t.dtype == dtype && t.rank == dims.count
        if fits {
            for (want, got) in zip(dims, t.shape) where want.value != nil && want.value != got { fits = false; break }
        }
        guard fits else {
            throw VMError(.input, "%\(ins.id.index) is declared \(ins.type!) but computes \(t.dtype.rawValue)\(describeShape(t.shape))", span: ins.range)
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
            try recordRead(ins, full: batch.shape, rows: rows)
        case .write(_, let index, let fn, let valueID):
            try count(ins)
            let (target, v) = try writeTarget(mine, index, valueID, ins, what: "")
            if recording {
                let old = (fn == .mul || fn == .div) && node(valueID, for: ins) != nil ? target.copy() : nil
                try recordWrite(ins, full: batch.shape, rows: rows, index: try resolve(index, ins), fn: fn, value: v, old: old)
            }
            Self.write(v, into: target, fn)
        default:
            try run(ins)
        }
    }

    /// Where a write goes (the invoke's rows, indexed) and the value, which must broadcast to it.
    func writeTarget(_ rows: Tensor, _ index: [IndexItem], _ valueID: ValueID, _ ins: Instruction, what: String) throws -> (Tensor, Tensor) {
        let target = try applyIndex(rows, index, ins, forWrite: true)
        let v = try tensor(valueID, ins).cast(to: .f32)
        guard Tensor.broadcastShape(target.shape, v.shape) == target.shape else {
            throw VMError(.input, "cannot write \(describeShape(v.shape)) into \(what)\(describeShape(target.shape))", span: ins.range)
        }
        return (target, v)
    }

    /// `target fn= v` in place.
    static func write(_ v: Tensor, into target: Tensor, _ fn: AssignFn) {
        switch fn {
        case .set: target.assign(v)
        case .add: target.binaryInPlace(.add, v)
        case .sub: target.binaryInPlace(.sub, v)
        case .mul: target.binaryInPlace(.mul, v)
        case .div: target.binaryInPlace(.div, v)
        }
    }

    /// Runs an instruction of the reverse pass at a point, on the gradient there for the
    /// whole batch: a read copies the invoke's rows, a write changes them in place (what
    /// flows further back).
    func runAtGradient(_ ins: Instruction, _ grad: Tensor) throws {
        guard try guardAllows(ins) else { return }
        let rows = rowRanges[ins.anchor.invoke ?? 0]
        let mine = grad.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound)
        switch ins.op {
        case .readPoint:
            try count(ins)
            try set(ins.id, .tensor(mine.copy()), ins)
        case .write(_, let index, let fn, let valueID):
            try count(ins)
            let (target, v) = try writeTarget(mine, index, valueID, ins, what: "the gradient ")
            Self.write(v, into: target, fn)
        default:
            try run(ins)
        }
    }

    /// After a recording pass: the reverse pass, running the work that waits for each
    /// point's gradient as it gets there.
    func reverse(_ s: BlockSetup, tape: Tape) throws {
        recording = false
        try tape.run(atPoint: { point, grad in
            try hooked {
                for ins in s.byGrad[point] ?? [] {
                    try runAtGradient(ins, grad)
                    release(after: ins)
                }
            }
        }, check: { try hooked { try checkCancelled(nil) } })
        results.backwardBytes = max(results.backwardBytes, tape.peakSavedBytes)
        self.tape = nil
        nodes = nodes.map { _ in nil }
        topkSources = [:]
    }

    func count(_ ins: Instruction) throws {
        executed += 1
        if executed > vm.limits.maxInstructions {
            throw VMError(.limit(.instructions), "the run executed more than \(vm.limits.maxInstructions) instructions", span: ins.range)
        }
        try checkCancelled(ins.range)
    }
}

/// The instruction time of a shared batch's members, summed (one batch runs on one thread).
final class BatchClock: @unchecked Sendable {
    var instructionSeconds = 0.0
}
