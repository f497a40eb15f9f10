import Foundation
import NSIIR
import NSIModel
import NSITensor
import NSITokenizer

/// The memory a forward pass holds beside the plan's own values, for `rows` prompts of
/// at most `tokens` tokens and `generated` steps after them: the attention scores of one
/// layer (the largest single buffer), and the keys and values every layer caches plus the
/// widest activations of one layer (the MLP's gate and up products beside the residual
/// stream). The VM charges these before a pass; admission checks them before a job is
/// queued. Saturates at Int.max rather than overflowing.
public struct PassMemory: Sendable, Equatable {
    public var scoreBytes: Int
    public var cacheAndActivationBytes: Int

    public init(config: ModelConfig, rows: Int, tokens: Int, generated: Int) {
        let keys = Saturating.add(tokens, generated)
        scoreBytes = Saturating.product([rows, config.numHeads, tokens, keys, 4])
        let perKey = Saturating.product([config.numLayers, 2, config.numKVHeads, config.headDim, 4])
        let perToken = Saturating.product([Saturating.add(Saturating.product([3, config.intermediateSize]),
                                                          Saturating.product([4, config.hiddenSize])), 4])
        cacheAndActivationBytes = Saturating.add(Saturating.product([rows, keys, perKey]), Saturating.product([rows, tokens, perToken]))
    }
}

/// Integer arithmetic that stops at Int.max: a bound past it is simply too large.
enum Saturating {
    static func add(_ a: Int, _ b: Int) -> Int {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? Int.max : s
    }

    static func product(_ factors: [Int]) -> Int {
        var n = 1
        for f in factors {
            let (p, o) = n.multipliedReportingOverflow(by: max(f, 0))
            if o { return Int.max }
            n = p
        }
        return n
    }
}

/// What a run of a plan will use at most, known before it runs from the plan, its
/// params and the model: per block its rows, prompt tokens, generated tokens and pass
/// memory; the most bytes the plan's own values hold at once; the bytes it saves. A
/// prompt of token ids the script computes counts with the width the checker gave it; a
/// prompt text the script computes is known only when the run gets there: its block's
/// sizes are nil, and the VM's checks before the pass still hold it to the limits.
public struct RunBounds: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        public var rows: Int
        /// The longest prompt in tokens, or nil when only the run knows it.
        public var tokens: Int?
        public var generated: Int
        public var pass: PassMemory?
        /// The matmul weights one position's pass multiplies by (`RunBounds.passWeights`).
        public var weights: Int = 0
        /// The block's forward passes in floating-point operations: 2 × `weights` × the
        /// positions computed (rows × prompt tokens, then rows for each generated step
        /// after the first); attention scores and norms not counted. Nil with `tokens`.
        public var flops: Double? {
            guard let t = tokens else { return nil }
            let positions = Double(rows) * (Double(t) + Double(max(generated - 1, 0)))
            return 2 * Double(weights) * positions
        }
    }

    public var blocks: [Block]
    /// Bytes of the plan's own values held at once (views count nothing), with each
    /// block's T, S and L; nil when a size is known only at run time.
    public var registerBytes: Int?
    /// Bytes of the saved results; nil when a size is known only at run time.
    public var savedBytes: Int?
    public var generatedTokens: Int
    public var maxPositions: Int

    /// Every block's forward passes in floating-point operations (`Block.flops`); nil
    /// when a block's prompt is known only when the run gets there.
    public var flops: Double? {
        var total = 0.0
        for b in blocks {
            guard let f = b.flops else { return nil }
            total += f
        }
        return total
    }

    /// The matmul weights a pass of `program`'s block `index` multiplies one position by,
    /// and the point it stops after when a trace reads or writes nothing past it (the VM
    /// stops the pass there); nil when it runs to the logits.
    public static func passWeights(_ program: Program, block index: Int, signature: ModelSignature) -> (count: Int, stopsAfter: Int?) {
        let all = signature.matmulWeights
        let total = all.map(\.count).reduce(0, +)
        guard case .trace = program.blocks[index].kind else { return (total, nil) }
        let last = program.instructions.filter { $0.anchor.block == index }
            .compactMap { ins -> Int? in if case .point(let p) = ins.anchor.phase { return p }; return nil }.max() ?? signature.points.embed
        guard last < signature.points.logits else { return (total, nil) }
        return (all.filter { $0.point <= last }.map(\.count).reduce(0, +), last)
    }

    /// The limits this plan is known to pass before it runs, each as a sentence naming the
    /// block, the bound and the limit. Empty when nothing known is over. `maxFLOPs` bounds
    /// the forward passes' work (a server's `--max-flops`).
    public func excess(_ limits: VMLimits, maxFLOPs: Double? = nil) -> [String] {
        var out: [String] = []
        if let limit = maxFLOPs, let f = flops, f > limit {
            out.append("its forward passes need about \(Self.describe(flops: f)); the limit is \(Self.describe(flops: limit))")
        }
        for (b, block) in blocks.enumerated() {
            if let t = block.tokens, Saturating.add(t, block.generated) > maxPositions {
                out.append("block \(b): a prompt of \(t) tokens" + (block.generated > 0 ? " and \(block.generated) generated" : "")
                           + " exceeds the model's \(maxPositions) positions")
            }
            if let p = block.pass, max(p.scoreBytes, p.cacheAndActivationBytes) > limits.maxRegisterBytes {
                out.append("block \(b): a pass over \(block.rows) prompt\(block.rows == 1 ? "" : "s") of \(block.tokens ?? 0) tokens needs "
                           + "\(Self.describe(max(p.scoreBytes, p.cacheAndActivationBytes))) of attention scores, cached keys and values and activations; "
                           + "the limit is \(Self.describe(limits.maxRegisterBytes))")
            }
        }
        if let r = registerBytes, r > limits.maxRegisterBytes {
            out.append("the plan's values need \(Self.describe(r)) at once; the limit is \(Self.describe(limits.maxRegisterBytes))")
        }
        if let s = savedBytes, s > limits.maxSavedBytes {
            out.append("the plan saves \(Self.describe(s)); the limit is \(Self.describe(limits.maxSavedBytes))")
        }
        if generatedTokens > limits.maxGeneratedTokens {
            out.append("the plan generates \(generatedTokens) tokens; the limit is \(limits.maxGeneratedTokens)")
        }
        return out
    }

    static func describe(_ bytes: Int) -> String {
        bytes == Int.max ? "more than \(Int.max) bytes" : "\(bytes) bytes"
    }

    /// A count of floating-point operations with its unit (`1.25 TFLOP`).
    public static func describe(flops x: Double) -> String {
        if x >= 1e15 { return String(format: "%.2f PFLOP", x / 1e15) }
        if x >= 1e12 { return String(format: "%.2f TFLOP", x / 1e12) }
        if x >= 1e9 { return String(format: "%.2f GFLOP", x / 1e9) }
        if x >= 1e6 { return String(format: "%.2f MFLOP", x / 1e6) }
        if x >= 1e3 { return String(format: "%.1f kFLOP", x / 1e3) }
        return String(format: "%.0f FLOP", x)
    }
}

extension VM {
    /// The bounds of a run of `program` with run-time `params` (unbound ones take their
    /// defaults), from the plan, the params and the model's tokenizer; nothing runs.
    public func bounds(_ program: Program, params: [String: RunValue] = [:]) -> RunBounds {
        RunBounds(program, signature: model.signature, params: params)
    }
}

extension RunBounds {
    /// The bounds of a run of `program` on a model of `signature` (its config and
    /// tokenizer: no weights needed) with run-time `params`.
    public init(_ program: Program, signature: ModelSignature, params: [String: RunValue] = [:]) {
        let config = signature.config
        // Each distinct prompt is tokenized once, however many invokes and blocks use it
        // (a 1 MB param given to 50 invokes cost 50 tokenizations before it was refused).
        var counted: [String: Int] = [:]
        func tokens(_ text: String, _ tokenizer: Tokenizer) -> Int {
            if let n = counted[text] { return n }
            let n = tokenizer.encode(text).count
            counted[text] = n
            return n
        }
        func promptLengths(_ invoke: Invoke, block: Int, index k: Int) -> [Int]? {
            // Token ids the script computes (an earlier generation's ids, a tensor of ids)
            // whose width the checker knows.
            if invoke.prompts == nil, invoke.promptParam == nil,
               let ins = program.instructions.first(where: { $0.anchor.block == block && $0.anchor.invoke == k && $0.op.kind == .prompt }),
               case .prompt(let v) = ins.op, case .tensor(let dtype, let dims)? = program.instructions[v.index].type,
               dtype.isInteger, case .known(let width)? = dims.last {
                return Array(repeating: width, count: invoke.rows)
            }
            guard let tokenizer = signature.tokenizer else { return nil }
            if let prompts = invoke.prompts { return prompts.map { tokens($0, tokenizer) } }
            guard let name = invoke.promptParam else { return nil }
            if case .str(let s)? = params[name] { return [tokens(s, tokenizer)] }
            if params[name] == nil, case .str(let s)? = program.params.first(where: { $0.name == name })?.value {
                return [tokens(s, tokenizer)]
            }
            return nil
        }
        var blocks: [RunBounds.Block] = []
        var generatedTokens = 0
        for (index, block) in program.blocks.enumerated() {
            var generated = 0
            if case .generate(let o) = block.kind { generated = o.maxTokens }
            generatedTokens = Saturating.add(generatedTokens, generated)
            var longest: Int? = 0
            var rows = 0
            for (k, inv) in block.invokes.enumerated() {
                rows += inv.rows
                guard let lengths = promptLengths(inv, block: index, index: k) else {
                    longest = nil
                    continue
                }
                if let l = longest { longest = max(l, lengths.max() ?? 0) }
            }
            let pass = longest.map { PassMemory(config: config, rows: rows, tokens: $0, generated: generated) }
            blocks.append(RunBounds.Block(rows: rows, tokens: longest, generated: generated, pass: pass,
                                          weights: Self.passWeights(program, block: index, signature: signature).count))
        }
        func symbols(_ b: Int) -> [String: Int]? {
            guard b >= 0 else { return [:] }
            guard let t = blocks[b].tokens else { return nil }
            let s = Saturating.add(t, blocks[b].generated)
            return ["T": t, "S": s, "L": s]
        }
        func bytes(_ type: ValueType?, block: Int) -> Int? {
            let (n, exact) = MemoryPlan.bytes(type, symbols: symbols(block) ?? [:])
            return exact ? n : nil
        }
        // The plan's own values, in the order the VM computes them, each released after its
        // last use: the walk `nsi dump`'s memory line makes, known only when every size is.
        let walk = MemoryPlan(program, elideCopies: true).peak(program) { symbols($0) ?? [:] }
        let peak: Int? = walk.exact ? walk.peak : nil
        var saved: Int? = 0
        for save in program.saves {
            let block = program.instructions.first { if case .save(let key, _) = $0.op { return key == save.key }; return false }?.anchor.block ?? -1
            guard let b = bytes(save.type, block: block), let s = saved else { saved = nil; break }
            saved = Saturating.add(s, b)
        }
        self.init(blocks: blocks, registerBytes: peak, savedBytes: saved, generatedTokens: generatedTokens,
                  maxPositions: config.maxPositions)
    }
}
