import Foundation
import Testing
import NSITensor
import NSIVM
import NSITestSupport

/// `randn`, `rand` and `randint` in scripts: the values of the generator's recipe (the numpy
/// reference in Tests/Fixtures/random), the default streams of draws given no seed, and
/// the checker's errors.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct RandomScriptTests {
    @Test func scriptDrawsAreTheRecipes() throws {
        let (cases, defaults) = try Fixtures.randomReference()
        let r = try run(#"""
        trace "The capital of France is" {
            save a = randn(3, 7, seed = 42)
            save b = rand([13], seed = -7)
            save c = randint(-5, 1000003, [2, 5], seed = 1)
            save d0 = rand(13)
            for i in 0..<2 { save d[i] = rand(13) }
        }
        """#)
        func values(_ fn: String, _ seed: Int64) throws -> [Double] {
            try #require(cases.first { $0.fn == fn && $0.seed == seed }).values
        }
        let a = try #require(r.value("a")?.tensor)
        #expect(a.shape == [3, 7])
        for (x, y) in zip(a.toFloats(), try values("randn", 42)) { #expect(abs(x - Float(y)) <= Float(y).ulp) }
        #expect(try #require(r.value("b")?.tensor).toFloats() == (try values("rand", -7)).map { Float($0) })
        #expect(try #require(r.value("c")?.tensor).toInt64s() == (try values("randint", 1)).map { Int64($0) })
        // Draws without a seed take the default streams in order, a loop's body a new one each time.
        let d0 = try #require(r.value("d0")?.tensor).toFloats()
        let d1 = try #require(r.value("d.0")?.tensor).toFloats()
        let d2 = try #require(r.value("d.1")?.tensor).toFloats()
        #expect(d0 == SplitMix.tensor([13], .uniform, seed: UInt64(bitPattern: defaults[0])).toFloats())
        #expect(d1 == SplitMix.tensor([13], .uniform, seed: UInt64(bitPattern: defaults[1])).toFloats())
        #expect(d2 == SplitMix.tensor([13], .uniform, seed: UInt64(bitPattern: defaults[2])).toFloats())
        #expect(d0 != d1 && d1 != d2)
    }

    /// `seed s` moves the default streams to `word(s, k)`; seeded calls keep their own.
    @Test func scriptSeedSetsTheDefaultStreams() throws {
        let r = try run(#"""
        seed 7
        trace "The capital of France is" {
            save a = rand(5)
            save b = rand(5)
            save c = rand(5, seed = 3)
        }
        """#)
        let a = try #require(r.value("a")?.tensor).toFloats(), b = try #require(r.value("b")?.tensor).toFloats()
        #expect(a == SplitMix.tensor([5], .uniform, seed: SplitMix.word(seed: 7, 0)).toFloats())
        #expect(b == SplitMix.tensor([5], .uniform, seed: SplitMix.word(seed: 7, 1)).toFloats())
        #expect(try #require(r.value("c")?.tensor).toFloats() == SplitMix.tensor([5], .uniform, seed: 3).toFloats())
        let unseeded = try #require(try run(#"trace "The capital of France is" { save a = rand(5) }"#).value("a")?.tensor).toFloats()
        #expect(a != unseeded)
    }

    /// Noise added at a point changes the model's output, the same way on every run.
    @Test func noiseIsReproducible() throws {
        let script = #"""
        trace "The Eiffel Tower is located in the city of" {
            model.embed.output[:, 0:4] += randn(1, 4, 576, seed = 1) * 0.4
            save p = model.logits[0, -1].softmax(-1)[tok(" Paris")]
        }
        """#
        let first = try #require(try run(script).value("p")?.tensor).toFloats()
        let second = try #require(try run(script).value("p")?.tensor).toFloats()
        let clean = try #require(try run(#"trace "The Eiffel Tower is located in the city of" { save p = model.logits[0, -1].softmax(-1)[tok(" Paris")] }"#).value("p")?.tensor).toFloats()
        #expect(first == second)
        #expect(abs(first[0] - clean[0]) > 0.1, "noise changed P(Paris) from \(clean[0]) to \(first[0])")
    }

    @Test(arguments: [
        ("randint(5, 5, [3])", "above `low` (5)"),
        ("randn(2, seed = 1.5)", "`seed` of `randn`"),
        ("rand(2, -1)", "a non-negative compile-time integer"),
        ("randn(2, scale = 3)", "unknown argument `scale`"),
        ("randint(0, 10)", "missing argument `size`"),
    ])
    func misuseIsAnError(call: String, message: String) throws {
        let text = "trace \"Hello\" {\n    save x = \(call)\n}\n"
        do {
            _ = try compile(text)
            Issue.record("`\(call)` compiled")
        } catch {
            #expect("\(error)".contains(message), "\(call): \(error)")
        }
    }
}
