import Testing
import NSITensor
import NSIModel
@testable import NSIRuntime

/// Parity with Hugging Face transformers on the four tiny random models: logits at every
/// position and the last row of each hidden state within 1e-4, greedy ids equal.
@Suite struct TinyModelParityTests {
    static let tolerance: Float = 1e-4

    @Test(arguments: ["tiny-gpt2", "tiny-llama3", "tiny-qwen2", "tiny-qwen3"])
    func logitsHiddenStatesAndGreedyMatchReference(model name: String) throws {
        let ref = try TinyReference.load(name)
        let model = try ModelCache.shared.tiny(name)
        let hooks = Hooks(points: model.points)
        var hidden: [Int: [Float]] = [:]
        for point in [model.points.embed, model.points.layers[0].output, model.points.norm] {
            hooks.add(point: point) { t, _ in
                hidden[point] = t.select(dim: 1, index: -1).select(dim: 0, index: 0).toFloats()
                return nil
            }
        }
        let (logits, _) = try model.trace(prompts: [ref.input_ids], hooks: hooks)
        let got = try #require(logits)
        #expect(got.shape == [1, ref.input_ids.count, model.config.vocabSize])
        let logitDiff = maxAbsDiff(got.toFloats(), ref.logits.flatMap { $0 })
        let hiddenDiffs = [model.points.embed, model.points.layers[0].output, model.points.norm].enumerated().map {
            maxAbsDiff(hidden[$0.element] ?? [], ref.hidden_states_last_row[$0.offset])
        }
        print("\(name): max |logits - reference| = \(logitDiff), hidden states = \(hiddenDiffs) (tolerance \(Self.tolerance))")
        #expect(logitDiff <= Self.tolerance)
        #expect(hiddenDiffs.allSatisfy { $0 <= Self.tolerance })

        let gen = try model.generate(prompts: [ref.input_ids], options: SamplingOptions(maxTokens: 8, stopAtEOS: false))
        #expect(gen.generated[0] == ref.greedy8_ids)
    }

    /// Prompts of different lengths batched (left-padded) give each row the logits it gets alone.
    @Test(arguments: ["tiny-gpt2", "tiny-llama3", "tiny-qwen3"])
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
}
