import Foundation
import NSITensor

/// The two families of decoder the runtime implements.
public enum Architecture: String, Sendable, Codable {
    /// Llama, Mistral, Qwen2, Qwen3, SmolLM2: RMSNorm, rotary positions, SwiGLU MLP.
    case llama
    /// GPT-2: LayerNorm, learned positions, fused c_attn, tanh-GELU MLP.
    case gpt2
}

/// Rotary scaling variants in config.json's `rope_scaling` / `rope_parameters`.
public enum RopeScaling: Sendable, Equatable, Codable {
    case none
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
}

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// What the runtime needs from a Hugging Face config.json, in both the older key style
/// (`rope_theta`, `rope_scaling`) and the newer one (`rope_parameters`).
public struct ModelConfig: Sendable, Codable, Equatable {
    public static let supportedModelTypes = ["llama", "mistral", "qwen2", "qwen3", "gpt2"]

    public var modelType: String
    public var architecture: Architecture
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    public var normEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling
    public var maxPositions: Int
    public var tieWordEmbeddings: Bool
    /// q/k/v projections carry a bias (Qwen2; `attention_bias` elsewhere).
    public var qkvBias: Bool
    /// o_proj carries a bias (`attention_bias` on Llama; always on GPT-2).
    public var outputBias: Bool
    public var mlpBias: Bool
    /// Qwen3's per-head RMSNorm on q and k before rotary.
    public var qkNorm: Bool
    public var hiddenAct: String
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]

    public init(contentsOf url: URL) throws {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(path: path, message: "cannot read the file")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch {
            throw ConfigError(path: path, message: "not valid JSON")
        }
        guard let object = json.objectValue else { throw ConfigError(path: path, message: "expected a JSON object") }
        try self.init(json: object, path: path)
    }

    public init(json c: [String: JSONValue], path: String = "config.json") throws {
        func fail(_ m: String) -> ConfigError { ConfigError(path: path, message: m) }
        func int(_ key: String) -> Int? {
            switch c[key] { case .int(let i): return Int(i); case .double(let d) where d == d.rounded(): return Int(d); default: return nil }
        }
        func double(_ key: String, in o: [String: JSONValue]? = nil) -> Double? {
            switch (o ?? c)[key] { case .int(let i): return Double(i); case .double(let d): return d; default: return nil }
        }
        func bool(_ key: String) -> Bool? { if case .bool(let b) = c[key] { return b }; return nil }
        func require(_ key: String, _ alt: String? = nil) throws -> Int {
            if let v = int(key) ?? alt.flatMap(int), v > 0 { return v }
            throw fail("missing or invalid \"\(key)\" (a positive integer)")
        }

        guard let type = c["model_type"]?.stringValue else {
            throw fail("no \"model_type\"; supported model types: \(ModelConfig.supportedModelTypes.joined(separator: ", "))")
        }
        guard ModelConfig.supportedModelTypes.contains(type) else {
            throw fail("unsupported architecture \"\(type)\"; supported model types: \(ModelConfig.supportedModelTypes.joined(separator: ", "))")
        }
        modelType = type
        architecture = type == "gpt2" ? .gpt2 : .llama
        vocabSize = try require("vocab_size")
        if architecture == .gpt2 {
            hiddenSize = try require("n_embd", "hidden_size")
            numLayers = try require("n_layer", "num_hidden_layers")
            numHeads = try require("n_head", "num_attention_heads")
            numKVHeads = numHeads
            intermediateSize = int("n_inner") ?? 4 * hiddenSize
            maxPositions = try require("n_positions", "max_position_embeddings")
            normEps = double("layer_norm_epsilon") ?? 1e-5
            hiddenAct = c["activation_function"]?.stringValue ?? "gelu_new"
            qkvBias = true
            outputBias = true
            mlpBias = true
            ropeTheta = 0
            ropeScaling = .none
            tieWordEmbeddings = bool("tie_word_embeddings") ?? true
            if bool("scale_attn_by_inverse_layer_idx") == true || bool("reorder_and_upcast_attn") == true {
                throw fail("GPT-2 options scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported")
            }
        } else {
            hiddenSize = try require("hidden_size")
            numLayers = try require("num_hidden_layers")
            numHeads = try require("num_attention_heads")
            numKVHeads = int("num_key_value_heads") ?? numHeads
            intermediateSize = try require("intermediate_size")
            maxPositions = int("max_position_embeddings") ?? 2048
            normEps = double("rms_norm_eps") ?? 1e-6
            hiddenAct = c["hidden_act"]?.stringValue ?? "silu"
            let attentionBias = bool("attention_bias") ?? false
            qkvBias = type == "qwen2" ? true : attentionBias
            outputBias = type == "qwen2" ? false : attentionBias
            mlpBias = bool("mlp_bias") ?? false
            tieWordEmbeddings = bool("tie_word_embeddings") ?? false
            // Newer configs nest theta and scaling in rope_parameters; older ones use
            // rope_theta and rope_scaling at the top level.
            let params = c["rope_parameters"]?.objectValue
            let scaling = params ?? c["rope_scaling"]?.objectValue
            ropeTheta = double("rope_theta", in: params) ?? double("rope_theta") ?? 10_000
            let ropeType = scaling?["rope_type"]?.stringValue ?? scaling?["type"]?.stringValue ?? "default"
            switch ropeType {
            case "default":
                ropeScaling = .none
            case "llama3":
                guard let s = scaling, let factor = double("factor", in: s),
                      let low = double("low_freq_factor", in: s), let high = double("high_freq_factor", in: s),
                      let original = double("original_max_position_embeddings", in: s) else {
                    throw fail("llama3 rope scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings")
                }
                ropeScaling = .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: Int(original))
            default:
                throw fail("unsupported rope type \"\(ropeType)\"; supported: default, llama3")
            }
            guard hiddenAct == "silu" else { throw fail("unsupported hidden_act \"\(hiddenAct)\" for \(type); supported: silu") }
        }
        qkNorm = type == "qwen3"
        headDim = int("head_dim") ?? hiddenSize / numHeads
        guard numHeads % numKVHeads == 0 else {
            throw fail("num_attention_heads (\(numHeads)) is not a multiple of num_key_value_heads (\(numKVHeads))")
        }
        guard architecture == .gpt2 || headDim % 2 == 0 else { throw fail("head_dim \(headDim) must be even for rotary embedding") }
        guard architecture == .llama || headDim * numHeads == hiddenSize else { throw fail("n_embd is not a multiple of n_head") }
        if architecture == .gpt2 && !["gelu_new", "gelu_pytorch_tanh", "gelu"].contains(hiddenAct) {
            throw fail("unsupported activation_function \"\(hiddenAct)\" for gpt2; supported: gelu_new, gelu_pytorch_tanh, gelu")
        }
        bosTokenId = int("bos_token_id")
        switch c["eos_token_id"] {
        case .int(let i): eosTokenIds = [Int(i)]
        case .array(let a): eosTokenIds = a.compactMap { $0.intValue.map(Int.init) }
        default: eosTokenIds = []
        }
    }

    /// Loads `config.json` from a model folder, and eos ids from `generation_config.json` when the config has none.
    public static func load(directory: String) throws -> ModelConfig {
        let dir = URL(fileURLWithPath: directory)
        var config = try ModelConfig(contentsOf: dir.appendingPathComponent("config.json"))
        let gen = dir.appendingPathComponent("generation_config.json")
        if config.eosTokenIds.isEmpty, let data = FileManager.default.contents(atPath: gen.path),
           let object = (try? JSONValue.parse(data))?.objectValue {
            switch object["eos_token_id"] {
            case .int(let i): config.eosTokenIds = [Int(i)]
            case .array(let a): config.eosTokenIds = a.compactMap { $0.intValue.map(Int.init) }
            default: break
            }
        }
        return config
    }

    /// Rotary inverse frequencies [headDim / 2], computed in f32 as transformers does.
    public func inverseFrequencies() -> [Float] {
        let half = headDim / 2
        var inv = (0..<half).map { i -> Float in 1 / powf(Float(ropeTheta), Float(2 * i) / Float(headDim)) }
        if case .llama3(let factor, let low, let high, let original) = ropeScaling {
            let lowWavelen = Float(Double(original) / low), highWavelen = Float(Double(original) / high)
            inv = inv.map { f in
                let wavelen = 2 * Float.pi / f
                if wavelen < highWavelen { return f }
                if wavelen > lowWavelen { return f / Float(factor) }
                let smooth = (Float(original) / wavelen - Float(low)) / Float(high - low)
                return (1 - smooth) * f / Float(factor) + smooth * f
            }
        }
        return inv
    }
}
