import Foundation
import Testing
import NSITensor
import NSIVM
import NSITestSupport

/// Weights read by path in scripts: the checkpoint's values, under the canonical and the
/// Hugging Face name alike; the tied head reads the embedding.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct WeightScriptTests {
    @Test func weightsAreTheCheckpoints() throws {
        let r = try run(#"""
        trace "Hello" {
            save norm = model.norm.weight
            save o = model.layers[3].attn.o_proj.weight[0:4, 0:8]
            save o_hf = model.model.layers[3].self_attn.o_proj.weight[0:4, 0:8]
            save head = model.lm_head.weight[tok(" Paris")]
        }
        """#)
        let file = try SafetensorsFile(path: Fixtures.modelDirectory! + "/model.safetensors")
        func stored(_ name: String) throws -> Tensor { try file.tensor(name).cast(to: .f32) }
        #expect(try #require(r.value("norm")?.tensor).toFloats() == (try stored("model.norm.weight")).toFloats())
        let o = try stored("model.layers.3.self_attn.o_proj.weight").slice(dim: 0, start: 0, end: 4).slice(dim: 1, start: 0, end: 8)
        #expect(try #require(r.value("o")?.tensor).toFloats() == o.contiguous().toFloats())
        #expect(try #require(r.value("o_hf")?.tensor).toFloats() == o.contiguous().toFloats())
        // SmolLM2 ties its head to the embedding: the head's row is the embedding's.
        let paris = try Fixtures.model().encode(" Paris")[0]
        let row = try stored("model.embed_tokens.weight").slice(dim: 0, start: paris, end: paris + 1).contiguous().toFloats()
        #expect(try #require(r.value("head")?.tensor).toFloats() == row)
    }
}

extension WeightScriptTests {
    /// A linear layer called by its path computes what the forward pass's layer does, by the
    /// canonical and the Hugging Face name; the weight read in the script gives the same.
    @Test func linearLayersAreCallable() throws {
        let r = try run(#"""
        trace "The Eiffel Tower is located in the city of" {
            let act = model.layers[3].mlp.act
            save down = (model.layers[3].mlp.down_proj(act) - model.layers[3].mlp.output).abs().max()
            let z = model.layers[5].attn.z.reshape(1, 10, 576)
            save o = (model.model.layers[5].self_attn.o_proj(z) - model.layers[5].attn.output).abs().max()
            save by_weight = (z @ model.layers[5].attn.o_proj.weight.transpose(0, 1) - model.layers[5].attn.output).abs().max()
        }
        """#)
        for key in ["down", "o", "by_weight"] {
            let d = try #require(r.value(key)?.tensor).toFloats()[0]
            print("linear layer \(key): max difference from the forward pass \(d) (tolerance 1e-4)")
            #expect(d <= 1e-4, "\(key): \(d)")
        }
    }
}
