import Foundation
import Testing
import NSITensor
import NSIModel
import NSIJSON
@testable import NSIRuntime
import NSITestSupport

@Suite struct ConfigAndWeightsTests {
    func config(_ json: String) throws -> ModelConfig {
        let object = try #require(try JSONValue.parse(Data(json.utf8)).dictionary)
        return try ModelConfig(json: object)
    }

    static let llamaKeys = #""hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 160, "vocab_size": 512"#

    @Test func olderAndNewerRopeKeyStylesAgree() throws {
        let older = try config(#"{"model_type": "llama", \#(Self.llamaKeys), "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}}"#)
        let newer = try config(#"{"model_type": "llama", \#(Self.llamaKeys), "rope_parameters": {"rope_theta": 500000.0, "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}}"#)
        #expect(older == newer)
        #expect(older.ropeTheta == 500000)
        #expect(older.ropeScaling == .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64))
        let plain = try config(#"{"model_type": "mistral", \#(Self.llamaKeys), "num_key_value_heads": 2, "rope_scaling": null}"#)
        #expect(plain.ropeScaling == .none && plain.ropeTheta == 10_000 && plain.numKVHeads == 2 && plain.headDim == 16)
    }

    @Test func llama3ScalingBendsOnlyLowFrequencies() throws {
        let c = try ModelCache.shared.tiny("tiny-llama3").config
        var plain = c
        plain.ropeScaling = .none
        let scaled = c.inverseFrequencies(), base = plain.inverseFrequencies()
        // Highest frequency (wavelength under original/high_freq_factor) is kept; the lowest is divided by the factor.
        #expect(scaled[0] == base[0])
        #expect(abs(scaled[scaled.count - 1] - base[base.count - 1] / 8) < 1e-12)
    }

    @Test func familyDifferencesComeFromModelType() throws {
        let qwen2 = try config(#"{"model_type": "qwen2", \#(Self.llamaKeys)}"#)
        #expect(qwen2.qkvBias && !qwen2.outputBias && !qwen2.qkNorm)
        let qwen3 = try config(#"{"model_type": "qwen3", \#(Self.llamaKeys), "head_dim": 32}"#)
        #expect(qwen3.qkNorm && qwen3.headDim == 32)
        let gpt2 = try config(#"{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 128, "vocab_size": 512, "eos_token_id": 50256}"#)
        #expect(gpt2.family == "gpt2" && gpt2.block.positions == .learned && gpt2.intermediateSize == 256 && gpt2.hiddenAct == "gelu_new" && gpt2.eosTokenIds == [50256])
    }

    @Test(arguments: [
        (#"{"model_type": "bert", "vocab_size": 10}"#, "unsupported architecture \"bert\"; supported model types: llama, mistral, qwen2, qwen3, gpt2, gpt_neox, gemma2, gemma3_text, olmo2, phi3"),
        (#"{"vocab_size": 10}"#, "no \"model_type\""),
        (#"{"model_type": "llama", "vocab_size": 10}"#, "missing or invalid \"hidden_size\""),
        (#"{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 160, "vocab_size": 512, "num_key_value_heads": 3}"#, "not a multiple"),
        (#"{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 160, "vocab_size": 512, "rope_scaling": {"rope_type": "yarn", "factor": 4}}"#, "unsupported rope type \"yarn\""),
        (#"{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 160, "vocab_size": 512, "hidden_act": "relu"}"#, "unsupported hidden_act"),
        // The newer families' own keys.
        (#"{"model_type": "gemma2", \#(ConfigAndWeightsTests.llamaKeys), "layer_types": ["sliding_attention"], "sliding_window": 4}"#, "layer_types has 1 entries for 2 layers"),
        (#"{"model_type": "gemma2", \#(ConfigAndWeightsTests.llamaKeys), "layer_types": ["sliding_attention", "chunked"], "sliding_window": 4}"#, "unsupported layer type"),
        (#"{"model_type": "gemma2", \#(ConfigAndWeightsTests.llamaKeys), "layer_types": ["sliding_attention", "full_attention"]}"#, "need a positive \"sliding_window\""),
        (#"{"model_type": "gemma3_text", \#(ConfigAndWeightsTests.llamaKeys), "hidden_activation": "relu"}"#, "unsupported hidden_activation \"relu\""),
        (#"{"model_type": "gpt_neox", \#(ConfigAndWeightsTests.llamaKeys), "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.19}}"#, "rotary dimensions 3 must be even"),
        (#"{"model_type": "gpt_neox", \#(ConfigAndWeightsTests.llamaKeys), "hidden_act": "silu"}"#, "unsupported hidden_act \"silu\""),
        (#"{"model_type": "phi3", \#(ConfigAndWeightsTests.llamaKeys), "rope_parameters": {"rope_type": "longrope"}}"#, "unsupported rope type \"longrope\""),
        (#"{"model_type": "olmo2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 512}"#, "missing or invalid \"intermediate_size\""),
    ])
    func configErrors(json: String, message: String) throws {
        #expect { try config(json) } throws: { "\($0)".contains(message) }
    }

    /// Copies a tiny model folder, rewriting its tensors through `transform`.
    func rewrittenModel(_ name: String, shards: Int = 1, storeAs: DType? = nil,
                        transform: ([(String, Tensor)]) -> [(String, Tensor)] = { $0 }) throws -> String {
        let src = Fixtures.path("tiny/\(name)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: src + "/config.json", toPath: dir.path + "/config.json")
        let file = try SafetensorsFile(path: src + "/model.safetensors")
        let tensors = transform(try file.names.map { ($0, try file.tensor($0)) })
        if shards == 1 {
            try SafetensorsWriter.write(tensors, to: dir.path + "/model.safetensors", storeAs: storeAs)
        } else {
            var map: [String] = []
            for s in 0..<shards {
                let part = tensors.enumerated().filter { $0.offset % shards == s }.map(\.element)
                let shardName = "model-\(s + 1)-of-\(shards).safetensors"
                try SafetensorsWriter.write(part, to: dir.path + "/" + shardName, storeAs: storeAs)
                map += part.map { "\"\($0.0)\": \"\(shardName)\"" }
            }
            try "{\"weight_map\": {\(map.joined(separator: ", "))}}".write(toFile: dir.path + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    @Test func shardedCheckpointGivesIdenticalLogits() throws {
        let ref = try TinyReference.load("tiny-llama3")
        let whole = try #require(try ModelCache.shared.tiny("tiny-llama3").trace(prompts: [ref.input_ids]).logits)
        let sharded = try Transformer(directory: rewrittenModel("tiny-llama3", shards: 3))
        let logits = try #require(try sharded.trace(prompts: [ref.input_ids]).logits)
        #expect(logits.toFloats() == whole.toFloats())
    }

    @Test(arguments: [DType.f16, .bf16])
    func halfPrecisionStorageIsDecoded(dtype: DType) throws {
        let ref = try TinyReference.load("tiny-qwen2")
        let model = try Transformer(directory: rewrittenModel("tiny-qwen2", storeAs: dtype))
        let logits = try #require(try model.trace(prompts: [ref.input_ids]).logits)
        let d = maxAbsDiff(logits.toFloats(), ref.logits.flatMap { $0 })
        // Rounding weights to 11 (f16) or 8 (bf16) significant bits moves logits a little, not a lot.
        print("tiny-qwen2 stored as \(dtype): max |logits - f32 reference| = \(d)")
        #expect(d < (dtype == .f16 ? 2e-3 : 3e-2))
        #expect(d > 0)
    }

    @Test func weightProblemsNameTheTensor() throws {
        let missing = try rewrittenModel("tiny-llama3") { $0.filter { $0.0 != "model.layers.1.mlp.up_proj.weight" } }
        #expect { try Transformer(directory: missing) } throws: {
            "\($0)" == "missing tensor model.layers.1.mlp.up_proj.weight (expected shape [160, 64])"
        }
        let wrong = try rewrittenModel("tiny-llama3") { ts in
            ts.map { $0.0 == "model.norm.weight" ? ($0.0, Tensor(zeros: [63])) : $0 }
        }
        #expect { try Transformer(directory: wrong) } throws: {
            "\($0)" == "tensor model.norm.weight has shape [63], expected [64]"
        }
        let extra = try rewrittenModel("tiny-llama3") { $0 + [("model.layers.0.self_attn.rotary_emb.inv_freq", Tensor(zeros: [8]))] }
        let weights = try Transformer(directory: extra).weights
        #expect(weights.unused == ["model.layers.0.self_attn.rotary_emb.inv_freq"])
        #expect(weights.unusedWarning(family: "llama") == nil, "a stored rotary table is not worth a warning")
        // A bias the config does not announce is named, not silently dropped.
        let bias = try rewrittenModel("tiny-llama3") { $0 + [("model.layers.1.self_attn.q_proj.bias", Tensor(zeros: [64]))] }
        #expect(try Transformer(directory: bias).weights.unusedWarning(family: "llama")
                == "the checkpoint has 1 tensor the llama family does not use (model.layers.1.self_attn.q_proj.bias); results may be wrong if config.json does not describe this checkpoint")
        let ints = try rewrittenModel("tiny-llama3") { ts in
            ts.map { $0.0 == "model.norm.weight" ? ($0.0, Tensor(shape: [64], int32s: Array(repeating: 1, count: 64))) : $0 }
        }
        #expect { try Transformer(directory: ints) } throws: { "\($0)".contains("expected a floating-point type") }
        #expect { try LanguageModel(directory: "/nonexistent/model") } throws: { "\($0)".contains("does not exist") }
    }

    @Test func gpt2CheckpointWithoutPrefixLoads() throws {
        let ref = try TinyReference.load("tiny-gpt2")
        let dir = try rewrittenModel("tiny-gpt2") { ts in
            ts.map { (String($0.0.dropFirst("transformer.".count)), $0.1) }
        }
        let logits = try #require(try Transformer(directory: dir).trace(prompts: [ref.input_ids]).logits)
        #expect(maxAbsDiff(logits.toFloats(), ref.logits.flatMap { $0 }) <= 1e-4)
    }
}
