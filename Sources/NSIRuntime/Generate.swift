import NSIModel
import Foundation
import NSITensor

/// How the next token is chosen. `temperature` 0 is greedy; otherwise temperature,
/// then top-k, then top-p filter the distribution before sampling, as transformers does.
public struct SamplingOptions: Sendable, Equatable {
    public var maxTokens: Int
    public var temperature: Double
    public var topK: Int?
    public var topP: Double?
    public var seed: UInt64
    public var stopAtEOS: Bool

    public init(maxTokens: Int = 16, temperature: Double = 0, topK: Int? = nil, topP: Double? = nil,
                seed: UInt64 = 0, stopAtEOS: Bool = true) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.stopAtEOS = stopAtEOS
    }
}

public struct GenerationResult: Sendable {
    /// Prompt plus generated ids per row (rows stop at eos, which is kept).
    public let ids: [[Int]]
    public let generated: [[Int]]
    /// Forward passes run (steps 0 ..< steps).
    public let steps: Int

    public init(ids: [[Int]], generated: [[Int]], steps: Int) {
        self.ids = ids
        self.generated = generated
        self.steps = steps
    }
}

/// A seeded SplitMix64 generator: the same seed gives the same samples everywhere. Its
/// n-th output is `SplitMix.word(seed:, n)`, the word random tensors are drawn from.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private let seed: UInt64
    private var n: UInt64 = 0
    public init(seed: UInt64) { self.seed = seed }
    public mutating func next() -> UInt64 {
        defer { n &+= 1 }
        return SplitMix.word(seed: seed, n)
    }
}

/// The seed of row `row` of a sampled generation: row 0 uses the seed itself, each
/// other row a generator of its own, so that a row's samples do not depend on how many
/// rows share its batch.
public func rowSeed(_ seed: UInt64, row: Int) -> UInt64 {
    guard row > 0 else { return seed }
    var g = SeededGenerator(seed: seed ^ (UInt64(row) &* 0xD1B5_4A32_D192_ED03))
    return g.next()
}

/// Picks the next token from one row of logits.
public struct Sampler: Sendable {
    public let options: SamplingOptions
    var rng: SeededGenerator

    public init(options: SamplingOptions, seed: UInt64? = nil) {
        self.options = options
        rng = SeededGenerator(seed: seed ?? options.seed)
    }

    public mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int {
        if options.temperature <= 0 {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return best
        }
        let inv = 1 / options.temperature
        var order = Array(0..<logits.count)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if let k = options.topK, k > 0, k < order.count { order.removeLast(order.count - k) }
        let top = Double(logits[order[0]]) * inv
        var probs = order.map { exp(Double(logits[$0]) * inv - top) }
        let total = probs.reduce(0, +)
        probs = probs.map { $0 / total }
        if let p = options.topP, p < 1 {
            // Keep the smallest prefix whose mass reaches p (at least one token).
            var mass = 0.0, keep = 0
            while keep < probs.count && (keep == 0 || mass < p) { mass += probs[keep]; keep += 1 }
            order.removeLast(order.count - keep)
            probs.removeLast(probs.count - keep)
            probs = probs.map { $0 / mass }
        }
        var u = Double.random(in: 0..<1, using: &rng)
        for (i, pr) in probs.enumerated() {
            u -= pr
            if u < 0 { return order[i] }
        }
        return order[order.count - 1]
    }
}

extension Transformer {
    /// Generates up to `options.maxTokens` tokens after each prompt, batched: one forward
    /// pass over the left-padded prompts (step 0), then one per new token with the KV cache.
    /// `onStep` is called after each step with the step number and each row's new token.
    /// Each row samples from its own generator: `rowSeeds[r]`, or `rowSeed(options.seed, row: r)`.
    public func generate(prompts: [[Int]], options: SamplingOptions, rowSeeds: [UInt64]? = nil, hooks: Hooks? = nil,
                         onStep: ((_ step: Int, _ tokens: [Int]) -> Void)? = nil) throws -> GenerationResult {
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else { throw RuntimeError(.input, "generate needs non-empty prompts") }
        guard options.maxTokens >= 1 else { throw RuntimeError(.input, "max_tokens must be at least 1") }
        let batch = PaddedBatch(prompts: prompts)
        let cache = KVCache(config: config, rows: batch.rows, capacity: batch.length + options.maxTokens)
        let eos = Set(config.eosTokenIds)
        if let rowSeeds, rowSeeds.count != prompts.count { throw RuntimeError(.input, "generate needs one seed per row") }
        var samplers = (0..<prompts.count).map { Sampler(options: options, seed: rowSeeds?[$0] ?? rowSeed(options.seed, row: $0)) }
        var generated = Array(repeating: [Int](), count: batch.rows)
        var done = Array(repeating: false, count: batch.rows)
        var nextPosition = batch.lengths
        var input = batch.ids, valid = batch.valid, positions = batch.positions
        var steps = 0
        for step in 0..<options.maxTokens {
            guard let logits = try forward(ids: input, valid: valid, positions: positions, cache: cache,
                                           hooks: hooks, step: step, logits: .last) else {
                throw RuntimeError(.internal, "generation cannot stop the forward pass early")
            }
            steps += 1
            let vocab = logits.shape[2]
            var tokens = [Int]()
            for r in 0..<batch.rows {
                let row = UnsafeBufferPointer(start: logits.floatPointer + r * vocab, count: vocab)
                let token = done[r] ? (config.eosTokenIds.first ?? 0) : samplers[r].next(row)
                if !done[r] {
                    generated[r].append(token)
                    if options.stopAtEOS && eos.contains(token) { done[r] = true }
                }
                tokens.append(token)
            }
            onStep?(step, tokens)
            if done.allSatisfy({ $0 }) || step == options.maxTokens - 1 { break }
            input = tokens.map { [$0] }
            valid = Array(repeating: [true], count: batch.rows)
            positions = nextPosition.map { [$0] }
            nextPosition = nextPosition.map { $0 + 1 }
        }
        return GenerationResult(ids: zip(prompts, generated).map { $0 + $1 }, generated: generated, steps: steps)
    }

    /// One forward pass over a batch of prompts (a trace), logits for every position
    /// (none with `logits: .none`, for a pass run for its hooks).
    public func trace(prompts: [[Int]], hooks: Hooks? = nil, logits mode: LogitsMode = .all,
                      sharing: RowSharing? = nil) throws -> (logits: Tensor?, batch: PaddedBatch) {
        let batch = PaddedBatch(prompts: prompts)
        let cache = KVCache(config: config, rows: batch.rows, capacity: max(batch.length, 1))
        let logits = try forward(ids: batch.ids, valid: batch.valid, positions: batch.positions, cache: cache, hooks: hooks,
                                 logits: mode, sharing: sharing)
        return (logits, batch)
    }
}
