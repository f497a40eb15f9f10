import Foundation
import Testing
import NSIIR
import NSIRuntime
import NSITensor
import NSIVM
import NSITestSupport

@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct VMBehaviourTests {
    /// An invoke's write changes only its own rows: the other invoke sees exactly what it
    /// sees when run alone, although both share one forward pass.
    @Test func rowIsolation() throws {
        let alone = try run(#"trace "The capital of France is" { save logits = model.logits[0, -1] }"#)
        let shared = try run(#"""
        trace {
            invoke "The capital of France is" {
                model.layers[3].output[:] = 0
                save a = model.logits[0, -1]
            }
            invoke "The capital of France is" { save b = model.logits[0, -1] }
            invoke "The capital of France is" {
                model.layers[5].mlp.output *= 3.0
                save c = model.layers[3].output
            }
        }
        """#)
        let base = try #require(alone.value("logits")?.tensor).toFloats()
        let b = try #require(shared.value("b")?.tensor).toFloats()
        let a = try #require(shared.value("a")?.tensor).toFloats()
        let d = maxAbsDiff(b, base)
        print("row isolation: untouched invoke differs from a lone run by \(d)")
        #expect(d < 1e-4)
        #expect(maxAbsDiff(a, base) > 0.1)
        // The third invoke's reads are its own rows only, and another invoke's zeroing is not in them.
        let c = try #require(shared.value("c")?.tensor)
        #expect(c.shape[0] == 1)
        #expect(c.toFloats().contains { $0 != 0 })
    }

    @Test func skipInOneInvokeLeavesTheOthers() throws {
        let alone = try run(#"trace "Hello there" { save x = model.layers[6].output }"#)
        let shared = try run(#"""
        trace {
            invoke "Hello there" { skip model.layers[4] ; save y = model.layers[6].output }
            invoke "Hello there" { save x = model.layers[6].output }
        }
        """#)
        let x = try #require(shared.value("x")?.tensor).toFloats(), y = try #require(shared.value("y")?.tensor).toFloats()
        let base = try #require(alone.value("x")?.tensor).toFloats()
        #expect(maxRelDiff(x, base) < 1e-4)
        #expect(maxAbsDiff(y, base) > 1e-2)
    }

    @Test func runtimeErrorsNameTheSourceLocation() throws {
        let script = """
        param prompt: str = "Hi"
        trace prompt {
            save x = model.layers[3].output[:, 40]
        }
        """
        #expect { try run(script) } throws: { error in
            "\(error)" == "3:14: index 40 is out of range for dimension 1 of size 1" && (error as? VMError)?.kind == .input
        }
    }

    /// Each limit stops the run with its own kind (which a host can act on) and message.
    @Test func limitsAreEnforced() throws {
        func limit(_ which: VMLimit, _ text: String) -> (any Error) -> Bool {
            { ($0 as? VMError)?.kind == .limit(which) && "\($0)".contains(text) }
        }
        let script = #"trace "The capital of France is" { save h = model.layers[2].output ; save l = model.logits }"#
        #expect(throws: Never.self) { try run(script) }
        #expect(performing: { try run(script, limits: VMLimits(maxSavedBytes: 1000)) }, throws: limit(.savedBytes, "saved results exceed the limit of 1000 bytes"))
        #expect(performing: { try run(script, limits: VMLimits(maxInstructions: 1)) }, throws: limit(.instructions, "more than 1 instructions"))
        #expect(performing: { try run(script, limits: VMLimits(maxRegisterBytes: 10_000)) }, throws: limit(.registerBytes, "bytes of intermediate values"))
        // Integer-tensor indices whose result would pass the limit stop before it is allocated.
        for index in ["a[randint(0, 10, [300, 1]), randint(0, 100, [1, 300])]", "a[randint(0, 10, [2000])]"] {
            let gathered = "let a = rand(10, 100, seed = 1)\ntrace \"Hi\" { save x = \(index).sum() }"
            #expect(throws: Never.self) { try run(gathered) }
            #expect(performing: { try run(gathered, limits: VMLimits(maxRegisterBytes: 200_000)) }, throws: limit(.registerBytes, "this index gives"))
        }
        let gen = #"generate "Hi" (max_tokens = 8) { save ids = result.ids }"#
        #expect(performing: { try run(gen, limits: VMLimits(maxGeneratedTokens: 4)) }, throws: limit(.generatedTokens, "exceeds the limit of 4 generated tokens"))
        let long = #"trace "The capital of France is" { for l in 0..<30 { save h[l] = model.layers[l].output * 2.0 } }"#
        #expect(performing: { try run(long, limits: VMLimits(deadline: 0)) }, throws: limit(.deadline, "deadline"))
    }

    /// Memory is charged before it is allocated: tensors no process could hold, broadcasts
    /// and products that would pass the limit, prompts longer than the model's positions,
    /// and passes over more rows than the limit holds stop with a limit, and the process
    /// lives on.
    @Test func memoryIsReservedBeforeAllocation() throws {
        func limit(_ which: VMLimit, _ text: String) -> (any Error) -> Bool {
            { ($0 as? VMError)?.kind == .limit(which) && "\($0)".contains(text) }
        }
        let huge = #"trace "Hi" { save z = zeros(100000, 100000).sum() }"#
        #expect(performing: { try run(huge) }, throws: limit(.registerBytes, "40000000000 bytes"))
        let broadcast = #"trace "Hi" { save z = (zeros(100000, 1) + zeros(1, 100000)).sum() }"#
        #expect(performing: { try run(broadcast) }, throws: limit(.registerBytes, "[100000, 100000]"))
        let overflow = #"trace "Hi" { save z = zeros(1099511627776, 1099511627776).sum() }"#
        #expect(performing: { try run(overflow) }, throws: limit(.registerBytes, "larger than memory can hold"))
        let product = #"trace "Hi" { save z = (zeros(40000, 1) @ zeros(1, 40000)).sum() }"#
        #expect(performing: { try run(product) }, throws: limit(.registerBytes, "[40000, 40000]"))
        let long = "param prompt: str = \"Hi\"\ntrace prompt { save l = model.logits[:, -1] }"
        let text = String(repeating: " Paris", count: 9000)
        #expect(performing: { try run(long, params: ["prompt": .str(text)]) }, throws: limit(.positions, "exceed the model's 8192 positions"))
        // Many rows: their cached keys and values and activations are charged before the pass.
        let rows = { (n: Int) in "trace [" + Array(repeating: #""The city of""#, count: n).joined(separator: ", ") + "] { save l = model.logits[:, -1].sum() }" }
        let small = VMLimits(maxRegisterBytes: 64 << 20)
        #expect(performing: { try run(rows(2000), limits: small) }, throws: limit(.registerBytes, "cached keys and values and activations"))
        #expect(throws: Never.self) { try run(rows(8), limits: small) }
        // Under the limits the same kinds of work still run.
        #expect(throws: Never.self) { try run(#"trace "Hi" { save z = (zeros(300, 1) + zeros(1, 300)).sum() }"#) }
    }

    /// The bounds known before a run (what a server checks at admission) are the sizes
    /// the VM charges when it runs: a limit one byte under a pass's bound stops that pass,
    /// one at the bound lets it run. Prompts of params are counted with the bound value,
    /// token ids the script computes with their width; sizes no machine holds saturate.
    @Test func boundsBeforeARunAreWhatTheRunCharges() throws {
        let model = try Fixtures.model()
        let vm = VM(model: model)
        let lens = "param prompt: str = \"The capital of France is\"\ntrace prompt { save l = model.logits[0, -1] }"
        let program = try compile(lens)
        let b = vm.bounds(program)
        let block = try #require(b.blocks.first)
        let c = model.transformer.config
        #expect(block.rows == 1 && block.tokens == 5 && block.generated == 0)
        #expect(block.pass?.scoreBytes == c.numHeads * 5 * 5 * 4)
        #expect(b.savedBytes == c.vocabSize * 4)
        #expect(b.excess(VMLimits()).isEmpty)
        let pass = try #require(block.pass).cacheAndActivationBytes
        func stop(_ e: any Error) -> Bool { (e as? VMError)?.kind == .limit(.registerBytes) && "\(e)".contains("\(pass) bytes") }
        #expect(performing: { try run(lens, limits: VMLimits(maxRegisterBytes: pass - 1)) }, throws: stop)
        #expect(throws: Never.self) { try run(lens, limits: VMLimits(maxRegisterBytes: pass)) }
        #expect(!b.excess(VMLimits(maxRegisterBytes: pass - 1)).isEmpty)

        // A bound param counts: 9,000 words pass the model's positions before anything runs.
        let long = vm.bounds(program, params: ["prompt": .str(String(repeating: " Paris", count: 9000))])
        #expect(long.blocks[0].tokens == 9000)
        #expect(long.excess(VMLimits()).contains { $0.contains("exceeds the model's 8192 positions") })
        // Values no machine holds, and sizes past Int.max, are over any limit.
        let huge = vm.bounds(try compile(#"trace "Hi" { save z = zeros(100000, 100000).sum() }"#))
        #expect(huge.registerBytes == 40_000_000_004)  // the zeros and their sum
        #expect(huge.excess(VMLimits()).contains { $0.contains("the plan's values need 40000000004 bytes at once") })
        let overflow = vm.bounds(try compile(#"trace "Hi" { save z = zeros(1099511627776, 1099511627776).sum() }"#))
        #expect(overflow.registerBytes == Int.max)
        // Token ids the script computes count with their checked width: the generation's
        // prompt and its 4 tokens.
        let chained = vm.bounds(try compile("""
            generate "Once upon a time" (max_tokens = 4) { save ids = result.ids }
            let generated = result.ids
            trace generated { save l = model.logits[0, -1] }
            """))
        #expect(chained.blocks.map(\.tokens) == [4, 8])
        #expect(chained.generatedTokens == 4)

        // Work: SmolLM2-135M's matmuls hold 134,479,872 weights (30 layers of q, k, v, o,
        // gate, up and down projections, and the head); 2 FLOPs each per position.
        #expect(block.weights == 134_479_872)
        #expect(b.flops == Double(2 * 134_479_872 * 5), "\(b.flops ?? 0)")
        // A trace that stops after layer 1 counts two layers; a generation counts its
        // prompt and each step after the first.
        let early = vm.bounds(try compile("trace \"The capital of France is\" { save h = model.layers[1].output[0, -1] }"))
        #expect(early.blocks[0].weights == 2 * 3_538_944)
        #expect(chained.blocks[0].flops == Double(2 * 134_479_872 * (4 + 3)))
        #expect(b.excess(VMLimits(), maxFLOPs: 1e9).contains { $0.contains("about 1.34 GFLOP; the limit is 1.00 GFLOP") })
        #expect(b.excess(VMLimits(), maxFLOPs: 2e9).isEmpty)
    }

    /// A product of seconds of work runs in blocks of rows, a batched one in blocks of its
    /// batch (checking cancel and deadline between them), and gives what one product gives.
    @Test func aLargeProductIsExactInBlocks() throws {
        let script = #"trace "Hi" { save z = ((zeros(2048, 2048) + 1.0) @ (zeros(2048, 2048) + 1.0))[2047, 0:4] }"#
        let z = try #require(try run(script).value("z")?.tensor)
        #expect(z.toFloats() == [2048, 2048, 2048, 2048])
        #expect(performing: { try run(script, limits: VMLimits(deadline: 0.01)) }, throws: { ($0 as? VMError)?.kind == .limit(.deadline) })
        // Batches of products, their batch dimensions broadcast: split along the batch.
        let batched = #"trace "Hi" { let p = (zeros(5, 1, 512, 1024) + 1.0) @ (zeros(1, 3, 1024, 600) + 2.0)  save z = p[:, :, 511, 0:2]  save s = p.sum() }"#
        let b = try run(batched)
        let zb = try #require(b.value("z")?.tensor)
        #expect(zb.shape == [5, 3, 2] && zb.toFloats().allSatisfy { $0 == 2048 })
        #expect(b.value("s")?.tensor?.item() == Float(5 * 3 * 512 * 600) * 2048)
        #expect(performing: { try run(batched, limits: VMLimits(deadline: 0.01)) }, throws: { ($0 as? VMError)?.kind == .limit(.deadline) })
    }

    @Test func planForAnotherModelIsRefused() throws {
        let program = try compile(#"trace "x" { save y = model.logits }"#, model: Fixtures.path("tiny/tiny-qwen2"))
        #expect { try VM(model: try Fixtures.model()).run(program) } throws: {
            "\($0)".contains("checked against another model") && ($0 as? VMError)?.kind == .mismatch
        }
    }

    @Test func runTimeParamsAreBound() throws {
        let script = """
        param prompt: str = "The capital of France is"
        param scale: float = 1.0
        trace prompt { save s = model.layers[1].output[0, -1, 0] * scale }
        """
        let one = try run(script)
        // Scaling by 2 is exact in floating point: the same prompt gives exactly twice the value.
        let scaled = try run(script, params: ["scale": .float(2.0)])
        let a = try #require(one.value("s")?.tensor).item(), s = try #require(scaled.value("s")?.tensor).item()
        #expect(a != 0 && s == 2 * a)
        let two = try run(script, params: ["prompt": .str("The capital of Italy is")])
        let b = try #require(two.value("s")?.tensor).item()
        #expect(b != a)
        #expect(two.blocks[0].prompts == ["The capital of Italy is"])
        #expect { try run(script, params: ["nope": .int(1)]) } throws: { "\($0)".contains("no param `nope`") && ($0 as? VMError)?.kind == .param }
        // A compile-time param (it indexes a write) shaped the plan: another value at run
        // time is an error, the same value is accepted.
        let fixed = """
        param layer: int = 2
        trace "The capital of France is" { model.layers[layer].output[0, -1] = 0 ; save s = model.logits[0, -1, 5] }
        """
        #expect { try run(fixed, params: ["layer": .int(3)]) } throws: {
            "\($0)".contains("fixed when compiling") && ($0 as? VMError)?.kind == .param
        }
        #expect(try run(fixed, params: ["layer": .int(2)]).value("s") != nil)
    }

    /// `result` in a block after its generate is that generate's, as the checker and the
    /// language reference say (the VM used to clear it at every block: "no generation
    /// has run"); a second generate replaces it.
    @Test func resultIsReadInLaterBlocks() throws {
        let results = try run(#"""
        generate "The capital of France is" (max_tokens = 3) { save during = result.ids }
        trace "Hello" { save after = result.ids }
        generate "Once upon a time" (max_tokens = 2) { save second = result.ids }
        trace "Hello" { save later = result.ids }
        """#)
        let during = try #require(results.value("during")?.tensor).toInts()
        #expect(try #require(results.value("after")?.tensor).toInts() == during)
        let second = try #require(results.value("second")?.tensor).toInts()
        #expect(second != during)
        #expect(try #require(results.value("later")?.tensor).toInts() == second)
    }

    /// A skip inside `step 1` skips the module at that step only: the same generation as
    /// the runtime driven by hand with the skip toggled per step.
    @Test func skipInOneStepOnly() throws {
        let results = try run(#"generate "The capital of France is" (max_tokens = 4) { step 1 { skip model.layers[3] } ; save ids = result.ids }"#)
        let ids = try #require(results.value("ids")?.tensor).toInts()
        let model = try Fixtures.model()
        let t = model.transformer
        let hooks = Hooks(points: t.points)
        let module = t.points.module(.layer, layer: 3)
        hooks.add(point: t.points.embed) { _, ctx in hooks.skipModule[module] = ctx.step == 1; return nil }
        let expected = try t.generate(prompts: [try model.encode("The capital of France is")], options: SamplingOptions(maxTokens: 4), hooks: hooks)
        #expect(ids == expected.ids[0])
        let plain = try t.generate(prompts: [try model.encode("The capital of France is")], options: SamplingOptions(maxTokens: 4))
        #expect(ids.prefix(6) == plain.ids[0].prefix(6))   // the prompt and the token step 0 chose
    }
}
