import Foundation
import Testing
import NSITensor
import NSIModel
@testable import NSIRuntime
import NSITestSupport

/// Parity with Hugging Face transformers on every tiny random model: logits at every
/// position and the last row of each hidden state within 1e-4, greedy ids equal.
@Suite struct TinyModelParityTests {
    static let tolerance: Float = 1e-4

    /// Every tiny model (Fixtures.tinyModels): every family of the registry, their variants
    /// (linear and llama3 RoPE scaling, sliding windows, sequential NeoX), and a Llama stored
    /// in bf16 (its reference is f32 arithmetic on the bf16 weights, which nsi reads at
    /// their stored width).
    static let models = Fixtures.tinyModels

    @Test(arguments: models)
    func logitsHiddenStatesAndGreedyMatchReference(model name: String) throws {
        let ref = try TinyReference.load(name)
        let model = try ModelCache.shared.tiny(name)
        let hooks = Hooks(points: model.points)
        var hidden: [Int: [Float]] = [:]
        // Hugging Face's hidden states: the embedding, each layer's output but the last, then the final norm's.
        let hiddenPoints = [model.points.embed] + model.points.layers.dropLast().map(\.output) + [model.points.norm]
        #expect(hiddenPoints.count == ref.hidden_states_last_row.count)
        for point in hiddenPoints {
            hooks.add(point: point) { t, _ in
                hidden[point] = t.select(dim: 1, index: -1).select(dim: 0, index: 0).toFloats()
                return nil
            }
        }
        let (logits, _) = try model.trace(prompts: [ref.input_ids], hooks: hooks)
        let got = try #require(logits)
        #expect(got.shape == [1, ref.input_ids.count, model.config.vocabSize])
        let logitDiff = maxAbsDiff(got.toFloats(), ref.logits.flatMap { $0 })
        let hiddenDiffs = hiddenPoints.enumerated().map {
            maxAbsDiff(hidden[$0.element] ?? [], ref.hidden_states_last_row[$0.offset])
        }
        print("\(name): max |logits - reference| = \(logitDiff), hidden states = \(hiddenDiffs) (tolerance \(Self.tolerance))")
        #expect(logitDiff <= Self.tolerance)
        #expect(hiddenDiffs.allSatisfy { $0 <= Self.tolerance })

        let gen = try model.generate(prompts: [ref.input_ids], options: SamplingOptions(maxTokens: 8, stopAtEOS: false))
        #expect(gen.generated[0] == ref.greedy8_ids)
    }

    /// Prompts of different lengths batched (left-padded) give each row the logits it gets alone.
    @Test(arguments: models)
    func batchedPromptsMatchSingleRuns(model name: String) throws {
        let model = try ModelCache.shared.tiny(name)
        let prompts = [[5, 17, 300, 2, 9], [44], [100, 101, 102, 103, 104, 105, 106, 7]]
        let (batched, _) = try model.trace(prompts: prompts)
        let all = try #require(batched)
        var worst: Float = 0
        for (r, p) in prompts.enumerated() {
            let (alone, _) = try model.trace(prompts: [p])
            let single = try #require(alone).select(dim: 1, index: -1).toFloats()
            let row = all.select(dim: 0, index: r).select(dim: 0, index: -1).toFloats()
            worst = max(worst, maxAbsDiff(row, single))
        }
        print("\(name): batched vs single last-position logits, max difference \(worst)")
        #expect(worst <= 1e-4)

        // Generation over the same batch matches generating each prompt alone.
        let options = SamplingOptions(maxTokens: 5, stopAtEOS: false)
        let together = try model.generate(prompts: prompts, options: options)
        for (r, p) in prompts.enumerated() {
            #expect(try model.generate(prompts: [p], options: options).generated[0] == together.generated[r])
        }
    }

    /// Each row samples from its own generator: a row's tokens do not depend on the
    /// rows batched with it, and rows with equal prompts still differ.
    @Test func sampledRowsDrawFromTheirOwnGenerators() throws {
        let model = try ModelCache.shared.tiny("tiny-llama3")
        let o = SamplingOptions(maxTokens: 6, temperature: 1.0, seed: 21, stopAtEOS: false)
        let alone = try model.generate(prompts: [[1, 2, 3]], options: o)
        let batched = try model.generate(prompts: [[1, 2, 3], [1, 2, 3], [7, 8]], options: o)
        #expect(batched.generated[0] == alone.generated[0])
        #expect(batched.generated[1] != batched.generated[0])
        // Given seeds place a row's generator anywhere in a batch.
        let moved = try model.generate(prompts: [[7, 8], [1, 2, 3]], options: o, rowSeeds: [rowSeed(21, row: 2), 21])
        #expect(moved.generated[1] == alone.generated[0])
        #expect(moved.generated[0] == batched.generated[2])
        #expect { try model.generate(prompts: [[1, 2, 3], [7, 8]], options: o, rowSeeds: [21]) } throws: {
            "\($0)".contains("one seed per row")
        }
    }

    @Test func sampledGenerationIsSeededAndRespectsTopK() throws {
        let model = try ModelCache.shared.tiny("tiny-llama3")
        let o = SamplingOptions(maxTokens: 6, temperature: 0.9, topK: 20, topP: 0.9, seed: 7, stopAtEOS: false)
        let a = try model.generate(prompts: [[1, 2, 3]], options: o)
        let b = try model.generate(prompts: [[1, 2, 3]], options: o)
        #expect(a.generated == b.generated)
        var other = o
        other.seed = 8
        let c = try model.generate(prompts: [[1, 2, 3]], options: other)
        #expect(c.generated[0].count == 6)
        #expect(c.generated != a.generated, "another seed drew the same six tokens")
        // top_k = 1 is greedy whatever the temperature.
        let greedy = try model.generate(prompts: [[1, 2, 3]], options: SamplingOptions(maxTokens: 6, stopAtEOS: false))
        let k1 = try model.generate(prompts: [[1, 2, 3]], options: SamplingOptions(maxTokens: 6, temperature: 1.5, topK: 1, seed: 3, stopAtEOS: false))
        #expect(k1.generated == greedy.generated)
    }

    @Test func generationStopsAtEOS() throws {
        let model = try ModelCache.shared.tiny("tiny-llama3")
        let ref = try TinyReference.load("tiny-llama3")
        // With the first greedy token declared the eos token, generation ends after it.
        var config = model.config
        config.eosTokenIds = [ref.greedy8_ids[0]]
        let eosModel = Transformer(config: config, weights: model.weights)
        let r = try eosModel.generate(prompts: [ref.input_ids], options: SamplingOptions(maxTokens: 8))
        #expect(r.generated[0] == [ref.greedy8_ids[0]])
        #expect(r.steps == 1)
    }

    /// The shared list names every folder of Tests/Fixtures/tiny, so every test that runs
    /// "each tiny model" runs a new one too.
    @Test func theListNamesEveryTinyModel() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("tiny")).filter { !$0.hasPrefix(".") }
        #expect(Set(folders) == Set(Fixtures.tinyModels))
        #expect(Fixtures.tinyModelsStoredInF32.count == Fixtures.tinyModels.count - 1)
    }

    /// The fixtures are what their parity results claim to test (Tests/Fixtures/README.md):
    /// windows shorter than the 12-token prompt, Gemma 3's global layer with its own rotary
    /// base, linear RoPE scaling, a sequential GPT-NeoX, soft-caps the logits reach.
    @Test func fixturesHaveTheBehaviourTheyTest() throws {
        let ref = try TinyReference.load("tiny-gemma3")
        #expect(ref.input_ids.count == 12)
        let gemma3 = try ModelCache.shared.tiny("tiny-gemma3").config
        #expect(gemma3.block.windows == [4, 4, nil] && gemma3.block.localRope == [true, true, false])
        #expect(gemma3.ropeTheta == 1_000_000 && gemma3.localRopeTheta == 10_000)
        #expect(try ModelCache.shared.tiny("tiny-mistral").config.block.windows == [4, 4])
        #expect(try ModelCache.shared.tiny("tiny-phi3").config.block.windows == [4, 4, 4])
        #expect(try ModelCache.shared.tiny("tiny-llama-linear").config.ropeScaling == .linear(factor: 4))
        #expect(try ModelCache.shared.tiny("tiny-gpt-neox-sequential").config.block.parallel == false)
        #expect(try ModelCache.shared.tiny("tiny-gpt-neox").config.block.parallel == true)
        // Gemma 2's final soft-cap: the reference logits come within 10% of the cap, where
        // tanh's derivative is below 0.2 (ReversePassTests fails without it).
        let gemma2 = try ModelCache.shared.tiny("tiny-gemma2").config
        let cap = Float(try #require(gemma2.block.logitSoftcap))
        let largest = try TinyReference.load("tiny-gemma2").logits.flatMap { $0 }.map(abs).max() ?? 0
        #expect(largest > 0.9 * cap, "largest |logit| \(largest) of the cap \(cap)")
    }
}

/// The access points of every family: each visited once per pass, with the shape its
/// template declares, and a write at the last position of any point reaches the last
/// position's logits; Hugging Face names resolve to the points they denote.
@Suite struct FamilyPointTests {
    @Test(arguments: TinyModelParityTests.models)
    func everyPointIsVisitedOnceWithItsShapeAndWritesReachTheLogits(model name: String) throws {
        let model = try ModelCache.shared.tiny(name)
        let ids = [5, 17, 300, 42, 7, 99, 256, 3, 1, 480, 64, 12]
        let t = ids.count
        let hooks = Hooks(points: model.points)
        var visits = [Int](repeating: 0, count: model.points.points.count)
        for p in model.points.points {
            hooks.add(point: p.id) { x, _ in
                visits[p.id] += 1
                let want = p.shape.map { d -> Int in
                    switch d { case .batch: return 1; case .tokens, .keys: return t; case .fixed(let n): return n }
                }
                #expect(x.shape == want, "\(name): \(p.name) has shape \(x.shape), its template says \(want)")
                return nil
            }
        }
        let base = try #require(try model.trace(prompts: [ids], hooks: hooks).0).select(dim: 1, index: t - 1).toFloats()
        #expect(visits.allSatisfy { $0 == 1 }, "\(name): visits \(visits)")

        for p in model.points.points {
            let changed = Hooks(points: model.points)
            changed.add(point: p.id) { x, _ in
                let tokenDim = p.kind == .scores || p.kind == .pattern ? 2 : 1
                let last = x.select(dim: tokenDim, index: x.shape[tokenDim] - 1)
                last.binaryInPlace(.mul, Tensor(scalar: -0.5))
                last.binaryInPlace(.add, Tensor(scalar: 0.25))
                return nil
            }
            let logits = try #require(try model.trace(prompts: [ids], hooks: changed).0).select(dim: 1, index: t - 1).toFloats()
            #expect(maxAbsDiff(logits, base) > 1e-5, "\(name): a write at \(p.name) does not reach the logits")
        }
    }

    @Test func huggingFaceNamesOfTheNewFamilies() throws {
        let neox = try ModelCache.shared.tiny("tiny-gpt-neox").points
        #expect(neox.point(named: "gpt_neox.layers.1.attention.query_key_value.output")?.id == neox.layers[1].qkvProj[0])
        #expect(neox.point(named: "gpt_neox.layers.1.post_attention_layernorm.output")?.id == neox.layers[1].mlpNorm)
        #expect(neox.point(named: "gpt_neox.layers.1.mlp.dense_4h_to_h.input")?.id == neox.layers[1].mlpAct)
        #expect(neox.point(named: "embed_out.output")?.id == neox.logits)
        let gemma2 = try ModelCache.shared.tiny("tiny-gemma2").points
        #expect(gemma2.point(named: "model.layers.0.post_attention_layernorm.output")?.id == gemma2.layers[0].attnPostNorm)
        #expect(gemma2.point(named: "model.layers.0.pre_feedforward_layernorm.output")?.id == gemma2.layers[0].mlpNorm)
        #expect(gemma2.point(named: "layers.0.mlp_post_norm.output")?.id == gemma2.layers[0].mlpPostNorm)
        // Gemma 2 scales after its embedding module, and caps the head's output: neither module output is a point.
        #expect(gemma2.point(named: "model.embed_tokens.output") == nil)
        #expect(gemma2.point(named: "lm_head.output") == nil && gemma2.point(named: "logits")?.id == gemma2.logits)
        let gemma3 = try ModelCache.shared.tiny("tiny-gemma3").points
        #expect(gemma3.point(named: "model.embed_tokens.output")?.id == gemma3.embed)
        let olmo2 = try ModelCache.shared.tiny("tiny-olmo2").points
        // No norm before attention or MLP: their inputs are the residual stream.
        #expect(olmo2.point(named: "layers.1.attn.input")?.id == olmo2.layers[0].output)
        #expect(olmo2.point(named: "model.layers.1.self_attn.q_proj.input")?.id == olmo2.layers[0].output)
        #expect(olmo2.point(named: "layers.1.mlp.input")?.id == olmo2.layers[1].residMid)
        let phi3 = try ModelCache.shared.tiny("tiny-phi3").points
        #expect(phi3.point(named: "model.layers.2.self_attn.qkv_proj.output")?.shape.last == .fixed(4 * 16 + 2 * 2 * 16))
        #expect(phi3.point(named: "model.layers.2.mlp.gate_up_proj.output")?.shape.last == .fixed(2 * 160))
    }

    /// Gemma 2's sliding window matters at 12 tokens: attention patterns of its sliding
    /// layers are zero beyond the window, and its full layers are not.
    @Test func slidingWindowLayersSeeOnlyTheirWindow() throws {
        let model = try ModelCache.shared.tiny("tiny-gemma2")
        let ids = [5, 17, 300, 42, 7, 99, 256, 3, 1, 480, 64, 12]
        let hooks = Hooks(points: model.points)
        var farMass: [Float] = []
        for l in 0..<model.config.numLayers {
            hooks.add(point: model.points.layers[l].pattern) { x, _ in
                // The last query's weights on keys more than `window` back.
                let row = x.select(dim: 0, index: 0).select(dim: 0, index: 0).select(dim: 0, index: ids.count - 1).toFloats()
                farMass.append(row[0..<(ids.count - 4)].reduce(0, +))
                return nil
            }
        }
        _ = try model.trace(prompts: [ids], hooks: hooks)
        #expect(model.config.block.windows == [4, nil, 4])
        #expect(farMass[0] == 0 && farMass[2] == 0 && farMass[1] > 0, "far attention mass by layer: \(farMass)")
    }
}
