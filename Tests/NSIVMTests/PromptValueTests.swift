import Foundation
import Testing
import NSITensor
import NSIVM
import NSITestSupport

/// Prompts given as values: token ids (a list of ints, `toks`, `randint`, a top-level
/// `let`), and what an earlier `generate` made (`result.ids`, `result.text`): each runs
/// exactly as the same tokens given as text.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct PromptValueTests {
    func logits(_ r: RunResults, _ key: String) throws -> [Float] { try #require(r.value(key)?.tensor).toFloats() }

    @Test func tokenIdsRunAsTheirText() throws {
        let text = "The Eiffel Tower is located in the city of"
        let ids = try Fixtures.model().encode(text)
        let r = try run("""
        let ids = toks("\(text)")
        trace "\(text)" { save text = model.logits[0, -1] }
        trace \(ids) { save list = model.logits[0, -1] }
        trace ids { save toks = model.logits[0, -1] }
        trace [\(ids), \(ids)] { save rows = model.logits[:, -1] }
        trace {
            invoke ids { save mixed = model.logits[0, -1] }
            invoke "Hello" { save other = model.logits[0, -1] }
        }
        """)
        let base = try logits(r, "text")
        for key in ["list", "toks"] { #expect(try logits(r, key) == base, "\(key)") }
        // Batched beside a shorter prompt (left padding), as any two text prompts.
        let d = maxAbsDiff(try logits(r, "mixed"), base)
        #expect(d <= 1e-4, "batched ids differ from their text alone by \(d)")
        let rows = try logits(r, "rows")
        #expect(Array(rows[0..<base.count]) == base && Array(rows[base.count...]) == base)
        // The sidecar records the ids and their decoded text.
        #expect(r.blocks[1].tokenIds == [ids] && r.blocks[1].prompts == [text])
    }

    /// Generate, then trace what was generated: the trace of `result.ids` sees the same
    /// logits as a trace of the whole text, and `result` stays usable blocks later.
    @Test func generateThenTrace() throws {
        let r = try run("""
        generate "The capital of France is" (max_tokens = 5) { }
        trace "Hello" { save unrelated = model.logits[0, -1, 0] }
        let full = result.ids
        trace full { save from_ids = model.logits[0, -1] }
        trace result.text { save from_text = model.logits[0, -1] }
        trace "Hi" { save later = result.ids }
        trace result.text[0] { save from_first = model.logits[0, -1] }
        trace ["Hello there", "Hi"][-1] { save from_listed = model.logits[0, -1] }
        trace "Hi" { save width = result.ids.shape[1] }
        """)
        let generated = try #require(r.blocks.first?.generatedText?.first)
        let whole = try run("trace \"The capital of France is\(generated.replacingOccurrences(of: "\n", with: "\\n"))\" { save l = model.logits[0, -1] }")
        let d = maxAbsDiff(try logits(r, "from_ids"), try logits(whole, "l"))
        print("generate-then-trace: result.ids traced like the full text, max difference \(d) (tolerance 1e-4)")
        #expect(d <= 1e-4)
        let alone = try run("trace \"\(generated.replacingOccurrences(of: "\n", with: "\\n"))\" { save l = model.logits[0, -1] }")
        #expect(try logits(r, "from_text") == (try logits(alone, "l")))
        #expect(try #require(r.value("later")?.tensor).shape == [1, 10])
        // One string of a list is a prompt; the width of result.ids is known when compiling.
        #expect(try logits(r, "from_first") == (try logits(alone, "l")))
        let hi = try run("trace \"Hi\" { save l = model.logits[0, -1] }")
        #expect(try logits(r, "from_listed") == (try logits(hi, "l")))
        #expect(r.value("width")?.intValue == 10)
    }

    @Test func randomIdsArePrompts() throws {
        let r = try run("""
        let x = randint(1000, 10000, [2, 6], seed = 4)
        trace x { save a = model.logits[:, -1, 0] }
        trace cat([x, x], dim = 1) { save b = model.logits[:, -1, 0] }
        """)
        #expect(r.blocks[0].tokenIds == SplitMix.tensor([2, 6], .integers(low: 1000, high: 10000), seed: 4).toInt64s().chunked(6))
        #expect(r.blocks[1].tokenIds.map(\.count) == [12, 12])
    }

    @Test(arguments: [
        ("trace [1, 2, 99999] { save x = 1 }", "must be in 0..<49152"),
        ("trace zeros(3) { save x = 1 }", "a prompt must be"),
        ("trace [[[1, 2]]] { save x = 1 }", "a prompt must be"),
        ("trace { invoke [1, 2] { save x = model.logits[0, -1, 0] } }\ntrace model.logits { save y = 1 }", ""),
    ])
    func badPromptsAreErrors(script: String, message: String) throws {
        do {
            _ = try compile(script)
            Issue.record("compiled: \(script)")
        } catch {
            #expect(message.isEmpty || "\(error)".contains(message), "\(error)")
        }
    }
}

extension Array where Element == Int64 {
    func chunked(_ n: Int) -> [[Int]] { stride(from: 0, to: count, by: n).map { self[$0..<Swift.min($0 + n, count)].map { Int($0) } } }
}

/// `stack` and `cat` of an indexed name: its elements in index order, a full grid of two
/// indices to two axes.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct GatheringTests {
    @Test func stackAndCatOfIndexedNames() throws {
        let r = try run("""
        trace "The Eiffel Tower is located in the city of" {
            for l in [3, 0, 2] { let p[l] = model.layers[l].output[0, -1, 0] }
            for l in 0..<3 {
                for t in 0..<4 { let g[l, t] = model.layers[l].output[0, t, 1] }
                let q[l] = model.layers[l].output[0, 0, 0:2]
            }
            save lens = stack(p)
            save grid = stack(g)
            save flat = cat(q)
            save all = model.layers[0].output[0]
            save all2 = model.layers[2].output[0]
            save all3 = model.layers[3].output[0]
        }
        """)
        func t(_ k: String) throws -> [Float] { try #require(r.value(k)?.tensor).toFloats() }
        let (h0, h2, h3) = (try t("all"), try t("all2"), try t("all3"))
        #expect(try t("lens") == [h0[9 * 576], h2[9 * 576], h3[9 * 576]])   // indices 0, 2, 3 in order
        let grid = try #require(r.value("grid")?.tensor)
        #expect(grid.shape == [3, 4])
        #expect(grid.toFloats()[2 * 4 + 3] == h2[3 * 576 + 1])
        #expect(try t("flat").count == 6)
    }
}

/// Shapes as compile-time values, and saved values usable as names.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct ShapeValueTests {
    @Test func shapesAreCompileTimeInts() throws {
        let r = try run("""
        trace "The Eiffel Tower is located in the city of" {
            let h = model.layers[3].output
            save n = h.shape[1]
            save dims = h.shape
            for t in 0..<h.shape[-2] { save r[t] = h[0, t].norm() }
            save norms = stack(r)
            save last = h[0, len(h[0]) - 1, 0:4]
            save h2 = model.layers[2].output[0, -1]
            save twice = h2 * 2.0
        }
        """)
        guard case .int(let n)? = r.value("n") else { Issue.record("n is \(String(describing: r.value("n")))"); return }
        #expect(n == 10)
        #expect(try #require(r.value("norms")?.tensor).shape == [10])
        #expect(try #require(r.value("last")?.tensor).shape == [4])
        let h2 = try #require(r.value("h2")?.tensor).toFloats(), twice = try #require(r.value("twice")?.tensor).toFloats()
        #expect(twice == h2.map { $0 * 2 })
    }
}

/// `arange`, `matmul`, `outer`, `one_hot` and `diagonal` against the same values computed
/// here from what the script saved.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct TensorFunctionTests {
    @Test func functionsComputeWhatTheySay() throws {
        let r = try run("""
        trace "The Eiffel Tower is located in the city of" {
            let h = model.layers[3].output[0]
            save m = h[0:3, 0:4]
            save ar = arange(2, 10, 3)
            save down = arange(5, 0, -2)
            save mm = matmul(h[0:2, 0:3], h[0:3, 0:2])
            save o = outer(h[0, 0:2], h[1, 0:3])
            save oh = one_hot([3, 0, 4], 5)
            save dg = diagonal(h[0:3, 0:4])
        }
        """)
        func t(_ k: String) throws -> Tensor { try #require(r.value(k)?.tensor) }
        let m = try t("m").toFloats()                                     // [3, 4]
        #expect(try t("ar").toInt64s() == [2, 5, 8])
        #expect(try t("down").toInt64s() == [5, 3, 1])
        #expect(try t("dg").toFloats() == [m[0], m[5], m[10]])
        let o = try t("o")
        #expect(o.shape == [2, 3])
        #expect(o.toFloats() == (0..<2).flatMap { i in (0..<3).map { j in m[i] * m[4 + j] } })
        #expect(try t("oh").toInt64s() == [0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        // matmul of [2, 3] (rows 0..<2 of m, columns 0..<3) by [3, 2] (rows 0..<3, columns 0..<2).
        let mm = try t("mm").toFloats()
        for i in 0..<2 {
            for j in 0..<2 {
                let expected = (0..<3).map { m[i * 4 + $0] * m[$0 * 4 + j] }.reduce(0, +)
                #expect(abs(mm[i * 2 + j] - expected) <= 1e-3 * max(1, abs(expected)), "matmul [\(i), \(j)]")
            }
        }
    }
}
