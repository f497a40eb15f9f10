import Foundation
import Testing
import NSIIR
import NSIOpt
import NSIRuntime
import NSITensor
import NSIVM
import NSITestSupport

/// `backward` and `.grad` on SmolLM2: the gradient samples agree with PyTorch autograd
/// (Tests/Fixtures/nnsight, made by their twins in Samples/nnsight); the plan's own arithmetic is differentiated correctly (finite
/// differences through a metric that uses every differentiable op); invokes' reverse
/// passes stay in their own rows; gradient writes change what flows back.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct GradientTests {
    /// Every saved value within 1e-3 of the largest value of its family (`grad.*`, `attr.*`,
    /// or the key alone), the issue's "relative to the largest gradient".
    @Test(arguments: ["attribution_patching", "attribution_heads", "frozen_saliency", "integrated_gradients", "linearized"])
    func sampleMatchesAutograd(sample: String) throws {
        let text = try String(contentsOf: Fixtures.repository.appendingPathComponent("Samples/\(sample).nsi"), encoding: .utf8)
        let (optimized, _) = try Optimizer.optimize(try compile(text))
        let results = try VM(model: try Fixtures.model()).run(optimized)
        #expect(results.backwardBytes > 0)
        let golden = try SafetensorsFile(path: Fixtures.path("nnsight/\(sample).safetensors"))
        let ours = Dictionary(uniqueKeysWithValues: ResultsFile.tensors(results))
        let wholes = wholeIndexedNames(ours, reference: golden.names)
        #expect(Set(ours.keys).subtracting(wholes) == Set(golden.names), "keys differ: \(Set(ours.keys).subtracting(wholes).symmetricDifference(golden.names))")
        func family(_ key: String) -> String { key.split(separator: ".").first.map(String.init) ?? key }
        var largest: [String: Float] = [:]
        for name in golden.names {
            let m = try golden.tensor(name).toFloats().map(abs).max() ?? 0
            largest[family(name)] = max(largest[family(name)] ?? 0, m)
        }
        var worst: [String: Float] = [:]
        for name in golden.names {
            guard let mine = ours[name] else { continue }
            let ref = try golden.tensor(name)
            #expect(mine.shape == ref.shape, "\(name): shape \(mine.shape) vs \(ref.shape)")
            let scale = max(largest[family(name)] ?? 1, .leastNonzeroMagnitude)
            let diff = maxDifference(mine, ref) / scale
            worst[family(name)] = max(worst[family(name)] ?? 0, diff)
            #expect(diff <= 1e-3, "\(name): differs from autograd by \(diff) of the largest \(family(name)) value")
        }
        print("\(sample): agrees with PyTorch autograd, max difference per family relative to its largest value: "
              + worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + " (tolerance 1e-3)")
    }

    /// A metric built from every differentiable op of the language and module calls
    /// (`model.norm`, a layer's `mlp`, `model.lm_head`, linear layers by path, a weight,
    /// edits of a `let` by `=`, `*=`, `-=` and `/=`),
    /// on layer 2's output;
    /// its `.grad` against central differences of the same plan with one element moved.
    /// (The model's own path is checked by the autograd and tiny-model tests: finite
    /// differences through 27 layers of f32 are too noisy at SmolLM2's scale.)
    static let opsScript = """
    param i: int = 0
    param j: int = 0
    param eps: float = 0.0
    trace "The Eiffel Tower is located in" {
        model.layers[2].output[0, i, j] += eps
        let h = model.layers[2].output[0]
        let a = (h[1:4, 0:16] * 0.05).tanh().sum() + (h[0, 0:8] * 0.01).exp().mean() + (h[2, 8:12] * 0.1).sigmoid().max()
        let b = (h[3] * 0.01).relu().norm() + (h[4, 0:4] - 3.0).abs().sum() * 0.1 + (h[1, 0:6] * h[1, 0:6] + 1.0).sqrt().sum() * 0.01
        let c = cosine(h[0], h[5]) + (h[0:2, 0:8] @ h[2:4, 0:8].transpose(0, 1)).sum() * 0.0001 + (h[1, 0:4] / (h[2, 0:4].abs() + 2.0)).sum()
        let d = cat([h[0, 0:3], h[1, 3:5]], dim=0).reshape(5, 1).squeeze(1).unsqueeze(0).clone().sum() * 0.1
        let e = stack([h[0, 0:4], h[1, 0:4]]).softmax(-1)[0, 1] + where(h[2, 0:6] > 0, h[2, 0:6], h[3, 0:6] * 2.0).sum() * 0.01
        let f = h[5].topk(3).values.sum() * 0.01 + (h[0, 0:4] * 0.1) ** 2.0 @ ones(4) + h[2, 0:5].log_softmax(-1)[2]
        let k = model.norm(h[0:2]).sum() * 0.01 + model.layers[3].mlp(h[1:3]).sum() * 0.001 + model.lm_head(h[4] * 0.01).log_softmax(-1)[7]
        let l = model.layers[3].mlp.down_proj(model.layers[3].mlp.up_proj(h[1:3]) * 0.1).sum() * 0.01 + (h[0] @ model.layers[3].attn.o_proj.weight[0:4].transpose(0, 1)).sum() * 0.01
        let q = h[0:3, 0:6] * 0.1
        q[1, 2:4] = h[4, 0:2] * 0.2
        q[0] *= h[5, 0:6] * 0.1
        q[2, ::2] -= 1.0
        q[:, 5] /= h[3, 0:3].abs() + 2.0
        let n = (q * q).sum() + (h[[1, 2, 2], [2, 9, 9]] * 0.1).exp().sum()
            + (h[0:3, 0:10].gather(1, [[0, 0], [2, 2], [9, 1]]) * 0.1).exp().sum()
            + (h[0:3, 0:10][:, arange(10) % 3 == 0] * 0.1).exp().sum()
            + (einsum("td,sd->ts", h[0:3, 0:10], h[1:3, 0:10]) * 0.01).tanh().sum()
        let m = a + b + c + d + e + f + k + l + n
        backward m
        save m = m
        save g = model.layers[2].output.grad[0]
    }
    """

    @Test func scriptArithmeticMatchesFiniteDifferences() throws {
        // i and j index a write, so they are fixed when compiling: one plan per element.
        func plan(_ i: Int, _ j: Int) throws -> Program {
            try Optimizer.optimize(try compile(Self.opsScript, params: ["i": "\(i)", "j": "\(j)"])).0
        }
        let vm = VM(model: try Fixtures.model())
        let base = try vm.run(try plan(0, 0))
        let g = try #require(base.value("g")?.tensor).toFloats()   // [T, 576]
        let width = 576
        let largest = g.map(abs).max() ?? 0
        #expect(largest > 0)
        // Elements every term of the metric reads, and the largest gradients.
        var picks: [(Int, Int)] = [(0, 0), (1, 2), (2, 9), (3, 100), (4, 1), (5, 7), (0, 3)]
        picks += g.indices.sorted { abs(g[$0]) > abs(g[$1]) }.prefix(3).map { ($0 / width, $0 % width) }
        let eps = 1e-2
        var worst: Float = 0
        for (i, j) in picks {
            let program = try plan(i, j)
            func m(_ e: Double) throws -> Double {
                let r = try vm.run(program, params: ["eps": .float(e)])
                return Double(try #require(r.value("m")?.tensor).toFloats()[0])
            }
            let fd = Float((try m(eps) - m(-eps)) / (2 * eps))
            let tape = g[i * width + j]
            let diff = difference(tape, fd)
            worst = max(worst, diff / largest)
            #expect(diff <= 1e-3 * largest + 2e-4, "element [\(i), \(j)]: tape \(tape), finite difference \(fd)")
        }
        print("script arithmetic: max |finite difference - tape| = \(worst) of the largest gradient \(largest) over \(picks.count) elements (tolerance 1e-3 of it + 2e-4, eps 1e-2)")
    }

    /// Two invokes with their own `backward` run as one batch: each gradient is what its
    /// invoke gets alone, nothing leaks between rows, and values of the other invoke are
    /// constants (the clean run's output does not receive the corrupt metric's gradient).
    @Test func invokesKeepTheirOwnGradients() throws {
        let together = try run("""
        trace {
            invoke "The Eiffel Tower is located in the city of" {
                let p = model.layers[5].output
                backward model.logits[0, -1, 42] + p.sum() * 0.0
                save a = model.layers[3].output.grad
            }
            invoke "The Colosseum is located in the city of" {
                let m = model.logits[0, -1, 7]
                backward m
                save b = model.layers[3].output.grad
            }
        }
        """)
        let alone = try run("""
        trace "The Colosseum is located in the city of" {
            backward model.logits[0, -1, 7]
            save b = model.layers[3].output.grad
        }
        """)
        let a = try #require(together.value("a")?.tensor), b = try #require(together.value("b")?.tensor)
        let b0 = try #require(alone.value("b")?.tensor)
        let diff = maxDifference(b, b0)
        let scale = b0.toFloats().map(abs).max() ?? 1
        print("batched invokes: second invoke's gradient differs from alone by \(diff / scale) of its largest (tolerance 1e-4)")
        #expect(diff <= 1e-4 * scale)
        #expect(a.toFloats().contains { $0 != 0 })
    }

    /// A skip of one invoke's rows (emulated with hooks in a batch) carries the gradient as
    /// the runtime's own skip does when the invoke runs alone.
    @Test func skippedModulesCarryTheGradientAsAlone() throws {
        let together = try run("""
        trace {
            invoke "The Colosseum is located in the city of" {
                backward model.logits[0, -1, 9]
                save a = model.layers[2].output.grad
            }
            invoke "The Eiffel Tower is located in the city of" {
                skip model.layers[4].mlp
                skip model.layers[6]
                backward model.logits[0, -1, 42]
                save b = model.layers[2].output.grad
            }
        }
        """)
        let alone = try run("""
        trace "The Eiffel Tower is located in the city of" {
            skip model.layers[4].mlp
            skip model.layers[6]
            backward model.logits[0, -1, 42]
            save b = model.layers[2].output.grad
        }
        """)
        let b = try #require(together.value("b")?.tensor).toFloats(), b0 = try #require(alone.value("b")?.tensor).toFloats()
        let scale = b0.map(abs).max() ?? 1
        let diff = maxAbsDiff(b, b0)
        print("emulated skips: gradient differs from the runtime's skip by \(diff / scale) of its largest (tolerance 1e-4)")
        #expect(diff <= 1e-4 * scale)
    }

    /// `.grad *= 0` at a layer stops everything below it; `x.detach()` cuts a path.
    @Test func gradientWritesAndDetachChangeWhatFlowsBack() throws {
        let r = try run("""
        trace "The Eiffel Tower is located in the city of" {
            backward model.logits[0, -1, 42]
            model.layers[6].output.grad *= 0
            save above = model.layers[8].output.grad
            save below = model.layers[4].output.grad
        }
        """)
        #expect(try #require(r.value("above")?.tensor).toFloats().contains { $0 != 0 })
        #expect(try #require(r.value("below")?.tensor).toFloats().allSatisfy { $0 == 0 })
        let d = try run("""
        trace "The Eiffel Tower is located in the city of" {
            let h = model.layers[4].output
            backward (h.detach() * h).sum() * 0.5
            save g = model.layers[4].output.grad
            save h = h
        }
        """)
        // A frozen point's gradient is what reaches the value written there; nothing goes below it.
        let f = try run("""
        trace "The Eiffel Tower is located in the city of" {
            model.layers[3].attn.pattern = model.layers[3].attn.pattern.detach()
            backward model.logits[0, -1, 42]
            save pattern = model.layers[3].attn.pattern.grad
            save q = model.layers[3].attn.q.grad
            save z = model.layers[3].attn.z.grad
        }
        """)
        #expect(try #require(f.value("pattern")?.tensor).toFloats().contains { $0 != 0 })
        #expect(try #require(f.value("z")?.tensor).toFloats().contains { $0 != 0 })
        #expect(try #require(f.value("q")?.tensor).toFloats().allSatisfy { $0 == 0 }, "q's gradient only flows through the frozen pattern")
        // d/dh of (stop(h) · h)/2 is h/2, not h.
        let g = try #require(d.value("g")?.tensor).toFloats(), h = try #require(d.value("h")?.tensor).toFloats()
        let worst = zip(g, h).map { abs($0 - $1 / 2) / max(1, abs($1)) }.max() ?? 1
        #expect(worst <= 1e-5, "detach: \(worst)")
    }

    /// What the forward keeps for the reverse pass counts against the run's memory limit:
    /// past it the run stops with that limit, before the reverse pass, and nothing is saved.
    @Test func theMemoryKeptForBackwardIsLimited() throws {
        let text = try String(contentsOf: Fixtures.repository.appendingPathComponent("Samples/frozen_saliency.nsi"), encoding: .utf8)
        let program = try compile(text)
        let kept = try VM(model: try Fixtures.model()).run(program).backwardBytes
        #expect(kept > 1_000_000)
        do {
            _ = try VM(model: try Fixtures.model(), limits: VMLimits(maxRegisterBytes: kept / 2)).run(program)
            Issue.record("a run keeping \(kept) bytes for its backward passed a limit of \(kept / 2)")
        } catch let e as VMError {
            #expect(e.kind == .limit(.registerBytes), "\(e)")
            #expect(e.message.contains("reverse pass"), "\(e)")
        }
    }

    /// The brief's two examples (docs/language.md, "Gradients"), as written: they check,
    /// run, and give what the samples built from them give.
    @Test func theBriefsExamplesRunAsWritten() throws {
        let attribution = try run("""
        param clean: str = "When John and Mary went to the store, Mary gave a drink to"
        param corrupt: str = "When John and Mary went to the store, John gave a drink to"
        trace {
            invoke clean {
                for l in 0..<model.num_layers { let c[l] = model.layers[l].output }
            }
            invoke corrupt {
                for l in 0..<model.num_layers { let x[l] = model.layers[l].output }
                let lg = model.logits[0, -1]
                let m = lg[tok(" Mary")] - lg[tok(" John")]
                backward m
                save metric = m
                for l in 0..<model.num_layers {
                    save attr[l] = ((c[l] - x[l]) * model.layers[l].output.grad).sum(-1)[0]
                }
            }
        }
        """)
        let golden = try SafetensorsFile(path: Fixtures.path("nnsight/attribution_patching.safetensors"))
        for l in [0, 12, 29] {
            let mine = try #require(attribution.value("attr.\(l)")?.tensor).toFloats(), ref = try golden.tensor("attr.\(l)").toFloats()
            let scale = ref.map(abs).max() ?? 1
            #expect(maxAbsDiff(mine, ref) <= 1e-3 * scale, "attr.\(l)")
        }
        let saliency = try run("""
        trace "The Eiffel Tower is located in the city of" {
            for l in 0..<model.num_layers {
                model.layers[l].attn.pattern = model.layers[l].attn.pattern.detach()
            }
            let lp = model.logits[0, -1].log_softmax(-1)[tok(" Paris")]
            backward lp
            save saliency = model.embed.output.grad[0].norm(-1)
            save g = model.layers[8].mlp.output.grad[0]
        }
        """)
        let frozen = try SafetensorsFile(path: Fixtures.path("nnsight/frozen_saliency.safetensors"))
        let mine = try #require(saliency.value("saliency")?.tensor).toFloats(), ref = try frozen.tensor("saliency").toFloats()
        let scale = ref.map(abs).max() ?? 1
        #expect(maxAbsDiff(mine, ref) <= 1e-3 * scale, "saliency")
    }
}

/// The gradients of the selecting ops (`max`, `max(dim)`, `topk`, `where`) on a tiny model:
/// the upstream value at each selected element and exactly zero at every other one, each
/// term with its own upstream factor so that a gradient sent to the wrong term's elements
/// shows. (Finite differences, above, only see the elements they move.)
@Suite struct SelectionGradientTests {
    @Test func selectedElementsGetTheUpstreamValueAndOthersZero() throws {
        let dir = Fixtures.tiny("tiny-llama3")
        let r = try VM(model: try LanguageModel(directory: dir)).run(try compile("""
        trace [5, 17, 42, 99, 7, 3] {
            let h = model.layers[0].output[0]
            let a = h[1].max() + h[2:4].max(-1).sum() * 2.0
            let b = h[4].topk(3).values.sum() * 3.0 + where(h[5] > 0, h[5], h[0] * 2.0).sum() * 5.0
            backward a + b
            save h = h
            save g = model.layers[0].output.grad[0]
        }
        """, model: dir))
        let h = try #require(r.value("h")?.tensor), g = try #require(r.value("g")?.tensor)
        #expect(h.shape == [6, 64] && g.shape == [6, 64])
        let hv = h.toFloats(), gv = g.toFloats()
        func row(_ i: Int) -> [Float] { Array(hv[(i * 64)..<((i + 1) * 64)]) }
        var expected = [Float](repeating: 0, count: 6 * 64)
        func argmax(_ x: [Float]) -> Int { x.indices.max { x[$0] < x[$1] }! }
        expected[1 * 64 + argmax(row(1))] = 1
        for i in 2...3 { expected[i * 64 + argmax(row(i))] = 2 }
        for j in row(4).indices.sorted(by: { row(4)[$0] > row(4)[$1] }).prefix(3) { expected[4 * 64 + j] = 3 }
        for (j, x) in row(5).enumerated() { expected[(x > 0 ? 5 : 0) * 64 + j] = x > 0 ? 5 : 10 }
        let wrong = gv.indices.filter { gv[$0] != expected[$0] }
        #expect(wrong.isEmpty, "gradient differs at \(wrong.prefix(8).map { "[\($0 / 64), \($0 % 64)]: \(gv[$0]) vs \(expected[$0])" })")
        // Most elements are not selected: their gradient is exactly zero.
        #expect(gv.filter { $0 == 0 }.count >= 3 * 64)
    }
}
