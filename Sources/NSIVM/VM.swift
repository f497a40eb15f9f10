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
    /// The most bytes a trace kept for its reverse pass (0 without `backward`).
    public var backwardBytes = 0
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
        // A reverse pass is the plan's own: plans with `backward` run alone.
        guard a.signatureHash == b.signatureHash, a.blocks.count == b.blocks.count, !a.hasBackward, !b.hasBackward else { return false }
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
        let clock = BatchClock()
        for (i, r) in runs.enumerated() {
            do {
                try checkSignature(r.program)
                guard runs.count == 1 || Self.canShare(first.program, r.program) else {
                    throw VMError(.mismatch, "this plan's blocks do not match the batch it was given with; run it alone")
                }
                let e = Execution(vm: self, program: r.program, params: r.params, cancellation: r.cancellation, shared: true, progress: nil)
                e.batchClock = clock
                executions.append(e)
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
                // Gradients wanted: the pass records from the earliest point whose gradient
                // is read or written, up to the last point anything needs (one plan alone).
                let gradientPoints = live.flatMap { $0.1.byGrad.keys }
                if let start = gradientPoints.min(), let (run, _) = live.first, live.count == 1 {
                    let tape = Tape(start: start, maxSavedBytes: max(0, run.vm.limits.maxRegisterBytes - run.registerBytes))
                    tape.watched = Set(gradientPoints)
                    hooks.tape = tape
                    run.tape = tape
                    run.recording = true
                    maxPoint = max(maxPoint, gradientPoints.max()!)
                }
                if maxPoint < transformer.points.logits { hooks.stopAfter = maxPoint }
                progress?("trace \(index): \(ids.count) rows, \(ids.map(\.count).max() ?? 0) tokens")
                let sharing = runs[0].vm.sharePrefixes && hooks.tape == nil ? firstWrites(live, block: index, rows: rows) : nil
                if hooks.tape == nil { hooks.logitPositions = logitPositions(live, block: index, rows: rows) }
                _ = try transformer.trace(prompts: ids, hooks: hooks, logits: .none, sharing: sharing)
                if let tape = hooks.tape, let (run, setup) = live.first {
                    progress?("trace \(index): reverse pass over \(tape.pointsRecorded.count) points, \(tape.peakSavedBytes) bytes kept")
                    run.capture { try run.reverse(setup, tape: tape) }
                }
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
