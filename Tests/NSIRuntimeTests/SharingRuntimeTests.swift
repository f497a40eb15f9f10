import Foundation
import Testing
import NSIRuntime
import NSITensor
import NSITestSupport

/// Shared prefixes in the runtime, on every tiny architecture: rows with the same tokens
/// written at different layers and positions (and one never written) give the values
/// they give when every row is computed everywhere, at every point the hooks see.
@Suite struct SharingRuntimeTests {
    static let models = Fixtures.tinyModels
    /// Products of other row counts round differently (OpenBLAS), so the two runs agree
    /// within |a - b| <= 1e-5 * (1 + |b|).
    static let tolerance: Float = 1e-5

    struct Capture {
        var logits: Tensor?
        var seen: [Int: Tensor] = [:]
    }

    /// Five rows: four of one prompt and one of another. Row 0 is written at the last
    /// layer's output from position 4, row 1 at layer 0's output at position 3, row 2 at
    /// layer 1's attention output from position 2 (scaled, through a replacement), row 3
    /// never; row 4 (the other prompt) at layer 0's output at position 0. The hooks read
    /// every layer's output, the attention pattern of layer 1 and the final norm.
    static func run(_ model: Transformer, sharing: RowSharing?, logitPositions: [[Int]?]? = nil) throws -> (Capture, SharingReport?) {
        let ids = Array(try TinyReference.load("tiny-llama3").input_ids.prefix(6)).map { $0 % model.config.vocabSize }
        let other = ids.reversed().map { $0 }
        let prompts = [ids, ids, ids, ids, other]
        let p = model.points, layers = model.config.numLayers
        let hooks = Hooks(points: p)
        var capture = Capture()
        let watched = p.layers.map(\.output) + [p.layers[min(1, layers - 1)].pattern, p.norm]
        for point in watched {
            hooks.add(point: point) { t, _ in capture.seen[point] = t.copy(); return nil }
        }
        func row(_ t: Tensor, _ r: Int) -> Tensor { t.select(dim: 0, index: r) }
        hooks.add(point: p.layers[layers - 1].output) { t, _ in
            row(t, 0).slice(dim: 0, start: 4).binaryInPlace(.add, Tensor(scalar: 0.75)); return nil
        }
        hooks.add(point: p.layers[0].output) { t, _ in
            row(t, 1).select(dim: 0, index: 3).binaryInPlace(.mul, Tensor(scalar: -1))
            row(t, 4).select(dim: 0, index: 0).binaryInPlace(.add, Tensor(scalar: 0.5))
            return nil
        }
        hooks.add(point: p.layers[min(1, layers - 1)].attnOutput) { t, _ in
            let r = t.copy()
            row(r, 2).slice(dim: 0, start: 2).binaryInPlace(.mul, Tensor(scalar: 1.5))
            return r
        }
        hooks.add(point: p.logits) { t, _ in capture.logits = t.copy(); return nil }
        hooks.logitPositions = logitPositions
        let (logits, _) = try model.trace(prompts: prompts, hooks: hooks, logits: logitPositions == nil ? .all : .none, sharing: sharing)
        if logitPositions == nil { #expect(logits.map { $0.toFloats() } == capture.logits.map { $0.toFloats() }) }
        return (capture, hooks.sharingReport)
    }

    static func worst(_ a: Tensor, _ b: Tensor) -> Float {
        maxDifference(a, b, .onePlusReference)
    }

    @Test(arguments: models)
    func sharedRowsGiveTheUnsharedValues(model name: String) throws {
        let model = try ModelCache.shared.tiny(name)
        let layers = model.config.numLayers
        let sharing = RowSharing(firstWrite: [layers - 1, 0, min(1, layers - 1), nil, 0], firstPosition: [4, 3, 2, 0, 0])
        let (shared, report) = try Self.run(model, sharing: sharing)
        let (alone, none) = try Self.run(model, sharing: nil)
        #expect(none == nil)
        let r = try #require(report, "\(name): nothing was shared")
        // Row 3, never written, is the source; rows 0-2 fork at their layer and position.
        #expect(r.forks.map(\.row) == [0, 1, 2] && Set(r.forks.map(\.source)) == [3])
        #expect(r.forks.map(\.position) == [4, 3, 2])
        #expect(r.tokenLayersComputed == 2 * 6 * layers + 2 * 1 + 3 * layers + 4 * (layers - min(1, layers - 1)))
        var worst: Float = 0
        for (point, value) in alone.seen {
            let got = try #require(shared.seen[point])
            #expect(got.shape == value.shape)
            worst = max(worst, Self.worst(got, value))
        }
        worst = max(worst, Self.worst(try #require(shared.logits), try #require(alone.logits)))
        print("\(name): shared prefixes, \(r.tokenLayersComputed) of \(r.tokenLayersTotal) token-layers; max relative difference \(worst) (tolerance \(Self.tolerance))")
        #expect(worst <= Self.tolerance, "\(name)")
        // The writes did something: rows 0-2 differ from row 3 in the logits.
        let logits = try #require(alone.logits)
        for r in 0..<3 { #expect(logits.select(dim: 0, index: r).toFloats() != logits.select(dim: 0, index: 3).toFloats()) }
    }

    /// With the positions the hooks use named, a pass that returns no logits runs the head
    /// there only: those positions hold the full head's values, the others zeros.
    @Test(arguments: models)
    func theHeadRunsAtTheNamedPositionsOnly(model name: String) throws {
        let model = try ModelCache.shared.tiny(name)
        let layers = model.config.numLayers
        let sharing = RowSharing(firstWrite: [layers - 1, 0, min(1, layers - 1), nil, 0], firstPosition: [4, 3, 2, 0, 0])
        let wanted: [[Int]] = [[5], [0, 5], [2], [1], [5, 3]]
        for s in [sharing, nil] {
            let (some, _) = try Self.run(model, sharing: s, logitPositions: wanted)
            let (all, _) = try Self.run(model, sharing: s)
            let got = try #require(some.logits), full = try #require(all.logits)
            #expect(got.shape == full.shape)
            var worst: Float = 0
            for r in 0..<5 {
                for t in 0..<6 {
                    let a = got.select(dim: 0, index: r).select(dim: 0, index: t), b = full.select(dim: 0, index: r).select(dim: 0, index: t)
                    if wanted[r].contains(t) {
                        worst = max(worst, Self.worst(a, b))
                    } else {
                        #expect(a.toFloats().allSatisfy { $0 == 0 }, "\(name): row \(r) position \(t) computed though not asked for")
                    }
                }
            }
            #expect(worst <= Self.tolerance, "\(name): the head at the named positions differs by \(worst)")
        }
    }
}
