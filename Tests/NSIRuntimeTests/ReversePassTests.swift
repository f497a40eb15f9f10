import Foundation
import Testing
import NSIModel
import NSIRuntime
import NSITensor
import NSITestSupport

/// The reverse pass of every family against central finite differences. A fixed random
/// metric m = Σ logits · W over a batch of two prompts (the second left-padded) is
/// differentiated with the tape; then, for each checked point, the coordinates with the
/// largest gradients and a few random ones are perturbed by ±eps in two more forward
/// passes, and (m(+eps) − m(−eps)) / 2eps is compared with the tape's gradient.
///
/// Every checked point's gradient has flowed back through every module after it (norms,
/// projections with bias, rotary, attention with its causal and padding masks and grouped
/// heads, softcaps, q/k norms, gated and plain MLPs, the head), so the embedding's
/// gradient checks the whole chain. The runtime computes in f32: differences are central,
/// eps = 1e-2, and the tolerance is 1e-2 of the largest gradient at the point plus 2e-3 of
/// |m|/eps's rounding, stated per check with the largest difference seen.
@Suite struct ReversePassTests {
    static let models = Fixtures.tinyModels
    static let eps: Float = 1e-2

    /// The forward with hooks: `perturb` adds to one element of one point; the metric in double.
    static func metric(_ model: Transformer, _ prompts: [[Int]], weights: Tensor, perturb: (point: Int, index: Int, by: Float)? = nil) throws -> Double {
        let hooks = Hooks(points: model.points)
        if let p = perturb {
            hooks.add(point: p.point) { t, _ in
                let c = t.contiguous().copy()
                c.floatPointer[p.index] += p.by
                return c
            }
        }
        let (logits, _) = try model.trace(prompts: prompts, hooks: hooks)
        let l = try #require(logits).toFloats(), w = weights.toFloats()
        return zip(l, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test(arguments: models)
    func gradientsMatchFiniteDifferences(model name: String) throws {
        let model = try ModelCache.shared.tiny(name)
        let c = model.config
        var rng = SplitMix64(seed: 0x5EED ^ UInt64(c.vocabSize))
        let prompts = [(0..<7).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }, (0..<5).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }]
        let batch = PaddedBatch(prompts: prompts)
        let count = batch.rows * batch.length * c.vocabSize
        let weights = Tensor(shape: [batch.rows, batch.length, c.vocabSize], floats: (0..<count).map { _ in Float.random(in: -1...1, using: &rng) })

        // Points across the model: the start, inside the first and last layers, the end.
        let first = model.points.layers[0], last = model.points.layers[c.numLayers - 1]
        let checked = [model.points.embed, first.q, first.pattern, first.mlpAct, last.attnNorm, last.z, last.mlpOutput,
                       model.points.normScale, model.points.norm] + [first.attnNormScale, last.mlpNormScale].compactMap { $0 }
        let hooks = Hooks(points: model.points)
        let tape = Tape(start: model.points.embed)
        hooks.tape = tape
        hooks.add(point: model.points.logits) { t, _ in
            // m = Σ logits · W, recorded on the tape and seeded.
            let node = try tape.record([tape.current], shape: []) { g in [weights * g] }
            tape.seed(try #require(node), Tensor(scalar: 1))
            _ = t
            return nil
        }
        // The recorded forward computes what the plain one does.
        let recorded = try #require(try model.trace(prompts: prompts, hooks: hooks).logits).toFloats()
        let plain = try #require(try model.trace(prompts: prompts).logits).toFloats()
        let forwardDiff = maxAbsDiff(recorded, plain)
        #expect(forwardDiff <= 1e-4, "\(name): the recorded forward's logits differ by \(forwardDiff)")
        var grads: [Int: Tensor] = [:]
        try tape.run(atPoint: { point, g in if checked.contains(point) { grads[point] = g.copy() } })
        #expect(tape.savedBytes == 0, "the reverse pass releases what it kept")

        for point in checked {
            let g = try #require(grads[point], "no gradient at \(model.points.points[point].name)").toFloats()
            let largest = g.map(abs).max() ?? 0
            #expect(largest > 0, "\(name): the gradient at \(model.points.points[point].name) is zero")
            // The three largest and three random coordinates (pads included: their gradient is 0).
            let top = g.indices.sorted { abs(g[$0]) > abs(g[$1]) }.prefix(3)
            let picks = Array(top) + (0..<3).map { _ in Int(rng.next() % UInt64(g.count)) }
            var worst: Float = 0
            for i in picks {
                let plus = try Self.metric(model, prompts, weights: weights, perturb: (point, i, Self.eps))
                let minus = try Self.metric(model, prompts, weights: weights, perturb: (point, i, -Self.eps))
                let fd = Float((plus - minus) / (2 * Double(Self.eps)))
                let rounding = Float(max(abs(plus), abs(minus))) * 2e-7 / Self.eps * 10
                let diff = difference(g[i], fd)
                worst = max(worst, diff / max(largest, .leastNonzeroMagnitude))
                #expect(diff <= 1e-2 * largest + rounding,
                        "\(name) \(model.points.points[point].name)[\(i)]: tape \(g[i]), finite difference \(fd) (largest gradient \(largest))")
            }
            print("\(name) \(model.points.points[point].name): max |finite difference - tape| = \(worst) of the largest gradient \(largest) (tolerance 1e-2)")
        }
    }
}
