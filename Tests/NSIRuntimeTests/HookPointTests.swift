import Foundation
import Testing
import NSITensor
import NSIModel
@testable import NSIRuntime

/// Every point kind on a Llama-family model (tiny Qwen2: GQA, q/k/v bias, tied head):
/// reads equal the reference math applied to the points before them; writes are seen by
/// everything downstream; skipped modules pass their input through.
@Suite struct HookPointTests {
    static let ids = [5, 17, 300, 42, 7, 99]
    static let tolerance: Float = 1e-4

    let model: Transformer
    init() throws { model = try ModelCache.shared.tiny("tiny-qwen2") }

    /// Runs a trace with optional extra hooks (added first) and returns a copy of every point.
    func capture(_ setup: (Hooks) -> Void = { _ in }) throws -> (points: [Int: Tensor], logits: Tensor) {
        let hooks = Hooks(points: model.points)
        setup(hooks)
        var seen: [Int: Tensor] = [:]
        for p in model.points.points {
            hooks.add(point: p.id) { t, _ in seen[p.id] = t.copy(); return nil }
        }
        let (logits, _) = try model.trace(prompts: [Self.ids], hooks: hooks)
        return (seen, try #require(logits))
    }

    /// The value each point must have given the captured points before it.
    func expectations(_ seen: [Int: Tensor]) -> [(point: Int, name: String, value: [Float])] {
        let c = model.config, w = model.weights, pt = model.points
        let t = Self.ids.count, hd = c.headDim, h = c.numHeads, kvh = c.numKVHeads
        var missing = false
        func m(_ id: Int, _ cols: Int) -> Naive.M {
            guard let t = seen[id] else { missing = true; return [] }
            return Naive.matrix(t, cols: cols)
        }
        func raw(_ id: Int) -> [Float] {
            guard let t = seen[id] else { missing = true; return [] }
            return t.toFloats()
        }
        func wm(_ x: Tensor) -> Naive.M { Naive.matrix(x, cols: x.shape[1]) }
        var out: [(Int, String, [Float])] = []
        // An expectation is skipped when a point it reads was not visited (a skipped module).
        func add(_ point: Int, _ name: String, _ value: () -> [Float]) {
            missing = false
            let v = value()
            if !missing { out.append((point, name, v)) }
        }
        let embedRows = Self.ids.map { id in Array(w.embed.select(dim: 0, index: id).toFloats()) }
        add(pt.embed, "embed") { embedRows.joined().map { $0 } }
        for l in 0..<c.numLayers {
            let p = pt.layers[l], lw = w.layers[l]
            let input = l == 0 ? pt.embed : pt.layers[l - 1].output
            let x = { m(input, c.hiddenSize) }
            add(p.attnNormScale!, "L\(l) attn_norm.scale") { Naive.rmsScale(x(), eps: c.normEps) }
            // The norm from its own (captured, possibly written) factor.
            add(p.attnNorm, "L\(l) attn_norm") { Naive.flat(Naive.scaled(x(), raw(p.attnNormScale!), lw.attnNorm!.toFloats())) }
            let a = { m(p.attnNorm, c.hiddenSize) }
            add(p.qkvProj[0], "L\(l) q_proj") { Naive.flat(Naive.linear(a(), wm(lw.q!.weight), lw.q!.bias?.toFloats())) }
            add(p.qkvProj[1], "L\(l) k_proj") { Naive.flat(Naive.linear(a(), wm(lw.k!.weight), lw.k!.bias?.toFloats())) }
            add(p.qkvProj[2], "L\(l) v_proj") { Naive.flat(Naive.linear(a(), wm(lw.v!.weight), lw.v!.bias?.toFloats())) }
            add(p.q, "L\(l) attn.q") { Naive.flat(Naive.rope(m(p.qkvProj[0], h * hd), heads: h, headDim: hd, positions: Array(0..<t), theta: c.ropeTheta)) }
            add(p.k, "L\(l) attn.k") { Naive.flat(Naive.rope(m(p.qkvProj[1], kvh * hd), heads: kvh, headDim: hd, positions: Array(0..<t), theta: c.ropeTheta)) }
            add(p.v, "L\(l) attn.v") { raw(p.qkvProj[2]) }
            let att = { Naive.attention(q: m(p.q, h * hd), k: m(p.k, kvh * hd), v: m(p.v, kvh * hd), heads: h, kvHeads: kvh, headDim: hd) }
            add(p.scores, "L\(l) attn.scores") { att().scores.flatMap { Naive.flat($0) } }
            // pattern from the captured scores, z from the captured pattern and v.
            let pattern = { m(p.scores, t).map { row -> [Double] in
                let mx = row.max()!, e = row.map { exp($0 - mx) }, s = e.reduce(0, +)
                return e.map { $0 / s }
            } }
            add(p.pattern, "L\(l) attn.pattern") { Naive.flat(pattern()) }
            let z = { () -> Naive.M in
            let pat = m(p.pattern, t), v = m(p.v, kvh * hd)
            if missing { return [] }
            var z = Naive.M(repeating: [Double](repeating: 0, count: h * hd), count: t)
            for head in 0..<h { for i in 0..<t { for d in 0..<hd {
                z[i][head * hd + d] = (0..<t).map { pat[head * t + i][$0] * v[$0][(head / (h / kvh)) * hd + d] }.reduce(0, +)
            } } }
            return z }
            add(p.z, "L\(l) attn.z") { Naive.flat(z()) }
            add(p.oProjInput, "L\(l) o_proj.input") { raw(p.z) }
            add(p.attnOutput, "L\(l) attn.output") { Naive.flat(Naive.linear(m(p.oProjInput, h * hd), wm(lw.o.weight), lw.o.bias?.toFloats())) }
            add(p.residMid, "L\(l) resid_mid") { Naive.flat(Naive.add(x(), m(p.attnOutput, c.hiddenSize))) }
            add(p.mlpNormScale!, "L\(l) mlp_norm.scale") { Naive.rmsScale(m(p.residMid, c.hiddenSize), eps: c.normEps) }
            add(p.mlpNorm, "L\(l) mlp_norm") { Naive.flat(Naive.scaled(m(p.residMid, c.hiddenSize), raw(p.mlpNormScale!), lw.mlpNorm!.toFloats())) }
            let mn = { m(p.mlpNorm, c.hiddenSize) }
            add(p.mlpProj[0], "L\(l) gate_proj") { Naive.flat(Naive.linear(mn(), wm(lw.gate!.weight))) }
            add(p.mlpProj[1], "L\(l) up_proj") { Naive.flat(Naive.linear(mn(), wm(lw.up!.weight))) }
                        add(p.mlpAct, "L\(l) mlp.act") { Naive.flat(zip(m(p.mlpProj[0], c.intermediateSize), m(p.mlpProj[1], c.intermediateSize)).map { zip($0, $1).map { Naive.silu($0) * $1 } }) }
            add(p.mlpOutput, "L\(l) mlp.output") { Naive.flat(Naive.linear(m(p.mlpAct, c.intermediateSize), wm(lw.down.weight))) }
            add(p.output, "L\(l) output") { Naive.flat(Naive.add(m(p.residMid, c.hiddenSize), m(p.mlpOutput, c.hiddenSize))) }
        }
        let last = pt.layers[c.numLayers - 1].output
        add(pt.normScale, "norm.scale") { Naive.rmsScale(m(last, c.hiddenSize), eps: c.normEps) }
        add(pt.norm, "norm") { Naive.flat(Naive.scaled(m(last, c.hiddenSize), raw(pt.normScale), w.norm.toFloats())) }
        add(pt.logits, "logits") { Naive.flat(Naive.linear(m(pt.norm, c.hiddenSize), wm(w.lmHead))) }
        return out
    }

    func checkConsistent(_ seen: [Int: Tensor], skipping: Set<Int> = [], context: String) {
        for e in expectations(seen) where !skipping.contains(e.point) {
            guard let got = seen[e.point] else { Issue.record("\(context): \(e.name) not visited"); continue }
            let d = Naive.maxDiff(got.toFloats(), e.value)
            #expect(d <= Self.tolerance, "\(context): \(e.name) differs from the reference math by \(d)")
        }
    }

    @Test func readsMatchReferenceMathAtEveryPoint() throws {
        let (seen, _) = try capture()
        #expect(seen.count == model.points.points.count)
        checkConsistent(seen, context: "read")
    }

    /// A write at each point kind (in place for some, by replacement for others) shows at
    /// that point and flows through every later point and the logits.
    @Test func writesFlowDownstreamAtEveryPointKind() throws {
        let (original, baseLogits) = try capture()
        let p0 = model.points.layers[0], p1 = model.points.layers[1]
        let targets = [model.points.embed, p0.attnNormScale!, p0.attnNorm, p0.qkvProj[0], p0.qkvProj[1], p0.qkvProj[2], p0.q, p0.k, p0.v,
                       p0.scores, p0.pattern, p0.z, p0.oProjInput, p0.attnOutput, p0.residMid, p0.mlpNorm,
                       p0.mlpNormScale!, p0.mlpProj[0], p0.mlpProj[1], p0.mlpAct, p0.mlpOutput, p0.output, p1.output,
                       model.points.normScale, model.points.norm]
        for (i, target) in targets.enumerated() {
            let inPlace = i % 2 == 0
            let (seen, logits) = try capture { hooks in
                hooks.add(point: target) { t, _ in
                    // Scale the last position by -0.5 and shift it: a change every later point sees.
                    let last = t.select(dim: 0, index: 0).select(dim: 0, index: t.shape[1] - 1)
                    if inPlace {
                        last.binaryInPlace(.mul, Tensor(scalar: -0.5))
                        last.binaryInPlace(.add, Tensor(scalar: 0.25))
                        return nil
                    }
                    let r = t.copy()
                    let rl = r.select(dim: 0, index: 0).select(dim: 0, index: t.shape[1] - 1)
                    rl.assign(last * -0.5 + 0.25)
                    return r
                }
            }
            let name = model.points.points[target].name
            let before = original[target]!.toFloats(), after = seen[target]!.toFloats()
            #expect(before != after, "write at \(name) not visible at the point")
            checkConsistent(seen, skipping: [target], context: "write at \(name)")
            #expect(Naive.maxDiff(logits.toFloats(), baseLogits.toFloats()) > 1e-4, "write at \(name) did not change the logits")
        }
    }

    /// A skipped layer passes its input through; a skipped attention or MLP contributes
    /// nothing (its output is zero), and the residual stream goes on without it.
    @Test func skippedModulesPassTheirInputThrough() throws {
        let pt = model.points, l0 = pt.layers[0]
        let (seen, _) = try capture { $0.skipModule[pt.module(.layer, layer: 0)] = true }
        #expect(seen[l0.output]!.toFloats() == seen[pt.embed]!.toFloats())
        #expect(seen[l0.q] == nil && seen[l0.mlpAct] == nil)
        let (a, _) = try capture { $0.skipModule[pt.module(.attn, layer: 1)] = true }
        #expect(a[pt.layers[1].attnOutput]!.toFloats().allSatisfy { $0 == 0 })
        #expect(a[pt.layers[1].residMid]!.toFloats() == a[pt.layers[0].output]!.toFloats())
        #expect(a[pt.layers[1].pattern] == nil)
        let l1 = pt.layers[1]
        checkConsistent(a, skipping: Set(l1.qkvProj + [l1.q, l1.k, l1.v, l1.scores, l1.pattern, l1.z, l1.oProjInput, l1.attnOutput]),
                        context: "skip attn")
        let (m, _) = try capture { $0.skipModule[pt.module(.mlp, layer: 1)] = true }
        #expect(m[pt.layers[1].mlpOutput]!.toFloats().allSatisfy { $0 == 0 })
        #expect(m[pt.layers[1].output]!.toFloats() == m[pt.layers[1].residMid]!.toFloats())
        checkConsistent(m, skipping: Set(l1.mlpProj + [l1.mlpAct, l1.mlpOutput]), context: "skip mlp")
    }

    @Test func earlyStopEndsTheForwardPass() throws {
        let hooks = Hooks(points: model.points)
        var visited: [Int] = []
        for p in model.points.points { hooks.add(point: p.id) { _, _ in visited.append(p.id); return nil } }
        hooks.stopAfter = model.points.layers[0].output
        let (logits, _) = try model.trace(prompts: [Self.ids], hooks: hooks)
        #expect(logits == nil)
        #expect(visited.last == model.points.layers[0].output)
        #expect(!visited.contains(model.points.layers[1].attnNorm))
    }

    @Test func replacementOfTheWrongShapeIsAnError() throws {
        let hooks = Hooks(points: model.points)
        hooks.add(point: model.points.layers[0].output) { _, _ in Tensor(zeros: [1, 2, 3]) }
        #expect { try model.trace(prompts: [Self.ids], hooks: hooks) } throws: {
            "\($0)".contains("layers.0.output returned shape [1, 2, 3], expected [1, 6, 64]")
        }
    }

    @Test func namesResolveToOnePoint() throws {
        let pt = model.points
        #expect(pt.point(named: "layers.3.attn.q") == nil)
        #expect(pt.point(named: "layers.1.attn.input")?.id == pt.layers[1].attnNorm)
        #expect(pt.point(named: "model.layers.1.self_attn.q_proj.input")?.id == pt.layers[1].attnNorm)
        #expect(pt.point(named: "model.layers.1.self_attn.o_proj.output")?.id == pt.layers[1].attnOutput)
        #expect(pt.point(named: "model.layers.0.mlp.down_proj.input")?.id == pt.layers[0].mlpAct)
        #expect(pt.point(named: "layers.1.input")?.id == pt.layers[0].output)
        #expect(pt.point(named: "logits")?.id == pt.logits)
        #expect(pt.point(named: "lm_head.input")?.id == pt.norm)
        #expect(pt.points.map(\.id) == Array(0..<pt.points.count))
        let gpt2 = try ModelCache.shared.tiny("tiny-gpt2").points
        #expect(gpt2.point(named: "transformer.h.1.mlp.c_proj.output")?.id == gpt2.layers[1].mlpOutput)
        #expect(gpt2.point(named: "transformer.h.0.attn.c_attn.output")?.id == gpt2.layers[0].qkvProj[0])
        #expect(gpt2.point(named: "transformer.h.0.mlp.c_fc.input")?.id == gpt2.layers[0].mlpNorm)
    }

    /// GPT-2's own points: c_attn (fused q/k/v, Conv1D layout) and c_fc with tanh GELU.
    @Test func gpt2PointsMatchReferenceMath() throws {
        let model = try ModelCache.shared.tiny("tiny-gpt2")
        let c = model.config, w = model.weights.layers[0], p = model.points.layers[0]
        let hooks = Hooks(points: model.points)
        var seen: [Int: Tensor] = [:]
        for id in [model.points.embed, p.attnNorm, p.qkvProj[0], p.mlpNorm, p.mlpProj[0], p.mlpAct] {
            hooks.add(point: id) { t, _ in seen[id] = t.copy(); return nil }
        }
        _ = try model.trace(prompts: [Self.ids], hooks: hooks)
        let x = Naive.matrix(seen[model.points.embed]!, cols: c.hiddenSize)
        let ln = Naive.layerNorm(x, w.attnNorm!.toFloats(), w.attnNormBias!.toFloats(), eps: c.normEps)
        #expect(Naive.maxDiff(seen[p.attnNorm]!.toFloats(), Naive.flat(ln)) <= Self.tolerance)
        // Conv1D stores [in, out]: out = x @ W + b.
        let wIn = Naive.matrix(w.qkv!.weight.mT.contiguous(), cols: 3 * c.hiddenSize)
        let cattn = ln.map { row in (0..<(3 * c.hiddenSize)).map { o in (0..<c.hiddenSize).map { row[$0] * wIn[$0][o] }.reduce(0, +) + Double(w.qkv!.bias!.toFloats()[o]) } }
        #expect(Naive.maxDiff(seen[p.qkvProj[0]]!.toFloats(), Naive.flat(cattn)) <= Self.tolerance)
        let fc = Naive.matrix(seen[p.mlpProj[0]]!, cols: c.intermediateSize)
        #expect(Naive.maxDiff(seen[p.mlpAct]!.toFloats(), Naive.flat(fc.map { $0.map(Naive.geluTanh) })) <= Self.tolerance)
    }
}
