import NSIJSON
import NSITensor

/// A model family: how its config.json reads, what its checkpoint and modules are
/// called, and what one decoder block computes. Each family is one file in `Families/`
/// and one line in `ModelFamily.all`; nothing else in nsi branches on the family.
public struct ModelFamily: Sendable {
    /// The registry's name for the family (`llama`, `gpt2`, ...).
    public let name: String
    /// The `model_type` values of config.json it reads.
    public let modelTypes: [String]
    /// Fills a config from config.json's keys; `config` arrives with the family-independent
    /// fields (vocabulary, special ids) read.
    public let read: @Sendable (inout ModelConfig, ConfigKeys) throws -> Void

    public init(name: String, modelTypes: [String], read: @escaping @Sendable (inout ModelConfig, ConfigKeys) throws -> Void) {
        self.name = name
        self.modelTypes = modelTypes
        self.read = read
    }

    /// The registry: one line per family.
    public static let all: [ModelFamily] = [.llama, .gpt2, .gptNeoX, .gemma2, .gemma3, .olmo2, .phi3]

    public static func family(modelType: String) -> ModelFamily? {
        all.first { $0.modelTypes.contains(modelType) }
    }
}

/// What one decoder block computes, in the order the runtime runs it:
///
///     a   = attn_norm(x)              (when preAttentionNorm; else a = x)
///     o   = attention(a)              q/k norms, rotary, soft-capping, sliding window as set
///     o   = attn_post_norm(o)         (when postAttentionNorm)
///     mid = x + o
///     m   = mlp_norm(parallel ? x : mid)   (when preMLPNorm; else m = mid)
///     f   = mlp(m)
///     f   = mlp_post_norm(f)          (when postMLPNorm)
///     out = mid + f
public struct Block: Sendable, Equatable {
    public enum Norm: String, Sendable { case layerNorm, rmsNorm
        /// RMSNorm that scales by (1 + weight) (Gemma); the loader adds the 1.
        case rmsNormPlusOne }
    public enum Positions: String, Sendable { case learned, rotary }
    public enum QKNorm: String, Sendable { case none
        /// Over each head's dimensions, after the heads are split (Qwen3, Gemma 3).
        case perHead
        /// Over the whole projection, before the heads are split (OLMo 2).
        case whole }
    public enum MLP: String, Sendable { case gated, plain }

    public var norm: Norm = .rmsNorm
    public var preAttentionNorm = true
    public var postAttentionNorm = false
    public var preMLPNorm = true
    public var postMLPNorm = false
    /// Attention and MLP both read the block's input (GPT-NeoX).
    public var parallel = false
    public var positions: Positions = .rotary
    /// Head dimensions that rotate (the first ones; all by default).
    public var rotaryDims = 0
    public var qkNorm: QKNorm = .none
    /// Multiplies q·k; 1/sqrt(head_dim) unless the family says otherwise.
    public var attentionScale = 0.0
    /// scores = cap · tanh(scores / cap) before masking.
    public var attentionSoftcap: Double?
    /// logits = cap · tanh(logits / cap).
    public var logitSoftcap: Double?
    /// The embedding is multiplied by this before the first block.
    public var embeddingScale: Double?
    /// Per layer: the sliding window (a query sees at most this many keys, itself
    /// included), or nil for full causal attention.
    public var windows: [Int?] = []
    /// Per layer: whether it takes the local rotary frequencies (`ModelConfig.localRope`).
    public var localRope: [Bool] = []
    public var mlp: MLP = .gated
    public var activation: Activation = .silu

    public init() {}
}

/// The MLP's activation function.
public enum Activation: String, Sendable {
    case silu, gelu
    /// GELU with the tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh

    /// Reads a Hugging Face activation name.
    public init?(huggingFace name: String) {
        switch name {
        case "silu", "swish": self = .silu
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        default: return nil
        }
    }
}

/// Hugging Face names of a family's modules: they name the checkpoint's tensors
/// (`<module>.weight`) and the access points' Hugging Face aliases (`<module>.output`).
public struct ModuleNames: Sendable, Equatable {
    /// How the attention's input projections are stored.
    public enum Projections: Sendable, Equatable {
        case separate(q: String, k: String, v: String)
        /// One projection, [q; k; v] one after another (GPT-2, Phi-3).
        case fused(String)
        /// One projection, per head [q_h; k_h; v_h] (GPT-NeoX).
        case fusedPerHead(String)
    }
    /// How the MLP's input projections are stored.
    public enum MLPProjections: Sendable, Equatable {
        case gated(gate: String, up: String)
        /// One projection, [gate; up] (Phi-3).
        case fusedGated(String)
        case plain(String)
    }

    public var embed = "model.embed_tokens"
    /// The module whose output is the embedding point, when one is (GPT-2's dropout after
    /// adding positions; none for Gemma 2, which scales after its embedding module).
    public var embedOutput: String? = "model.embed_tokens"
    /// Learned positions (GPT-2).
    public var positions: String?
    /// The decoder layers (`<layers>.<l>`).
    public var layers = "model.layers"
    public var attention = "self_attn"
    public var attnNorm: String? = "input_layernorm"
    public var attnPostNorm: String?
    public var mlpNorm: String? = "post_attention_layernorm"
    public var mlpPostNorm: String?
    public var projections: Projections = .separate(q: "q_proj", k: "k_proj", v: "v_proj")
    public var qNorm = "q_norm", kNorm = "k_norm"
    public var out = "o_proj"
    public var mlp = "mlp"
    public var mlpProjections: MLPProjections = .gated(gate: "gate_proj", up: "up_proj")
    public var down = "down_proj"
    public var finalNorm = "model.norm"
    public var head = "lm_head"
    /// Linear weights stored [in, out] (GPT-2's Conv1D) rather than [out, in].
    public var transposedLinears = false
    /// A prefix checkpoints may leave off every name but the head's (GPT-2's `transformer.`).
    public var optionalPrefix: String?

    public init() {}
}

/// The keys of a config.json object, with the readers every family uses.
public struct ConfigKeys: Sendable {
    public let object: [String: JSONValue]
    public let path: String

    public init(_ object: [String: JSONValue], path: String) {
        self.object = object
        self.path = path
    }

    public func fail(_ message: String) -> ConfigError { ConfigError(path: path, message: message) }

    public func int(_ key: String) -> Int? { Self.int(object[key]) }
    public func double(_ key: String) -> Double? { Self.double(object[key]) }
    public func bool(_ key: String) -> Bool? { if case .bool(let b) = object[key] { return b }; return nil }
    public func string(_ key: String) -> String? { object[key]?.stringValue }
    public func objectValue(_ key: String) -> [String: JSONValue]? { object[key]?.dictionary }

    static func int(_ v: JSONValue?) -> Int? {
        switch v { case .int(let i): return Int(i); case .double(let d) where d == d.rounded() && abs(d) < 1e15: return Int(d); default: return nil }
    }
    static func double(_ v: JSONValue?) -> Double? {
        switch v { case .int(let i): return Double(i); case .double(let d): return d; default: return nil }
    }

    /// A positive integer under `key` (or its older name `alt`).
    public func require(_ key: String, _ alt: String? = nil) throws -> Int {
        if let v = int(key) ?? alt.flatMap(int), v > 0 { return v }
        throw fail("missing or invalid \"\(key)\" (a positive integer)")
    }

    /// The activation under `key`, checked against what the family supports.
    public func activation(_ key: String, default value: String, supported: [String]) throws -> Activation {
        let name = string(key) ?? value
        guard supported.contains(name), let a = Activation(huggingFace: name) else {
            throw fail("unsupported \(key) \"\(name)\"; supported: \(supported.joined(separator: ", "))")
        }
        return a
    }

    /// The dimensions every rotary decoder names the same way (Llama's keys).
    public func readDecoderDimensions(into c: inout ModelConfig, defaultEps: Double = 1e-6) throws {
        c.hiddenSize = try require("hidden_size")
        c.numLayers = try require("num_hidden_layers")
        c.numHeads = try require("num_attention_heads")
        c.numKVHeads = int("num_key_value_heads") ?? c.numHeads
        c.intermediateSize = try require("intermediate_size")
        c.headDim = int("head_dim") ?? c.hiddenSize / c.numHeads
        c.maxPositions = int("max_position_embeddings") ?? 2048
        c.normEps = double("rms_norm_eps") ?? double("layer_norm_eps") ?? defaultEps
        c.tieWordEmbeddings = bool("tie_word_embeddings") ?? false
    }

    /// Rotary theta and scaling, from the newer `rope_parameters` (optionally one entry per
    /// layer type, `entry`) or the older `rope_theta` / `rope_scaling` keys. Returns the
    /// partial rotary factor too.
    public func rope(entry: String? = nil, defaultTheta: Double = 10_000) throws -> (theta: Double, scaling: RopeScaling, partial: Double) {
        var params = objectValue("rope_parameters")
        if let entry, let nested = params?[entry]?.dictionary { params = nested }
        let scaling = params ?? objectValue("rope_scaling")
        let theta = Self.double(params?["rope_theta"]) ?? double("rope_theta") ?? double("rotary_emb_base") ?? defaultTheta
        let partial = Self.double(params?["partial_rotary_factor"]) ?? double("partial_rotary_factor") ?? double("rotary_pct") ?? 1
        let type = scaling?["rope_type"]?.stringValue ?? scaling?["type"]?.stringValue ?? "default"
        func value(_ key: String) -> Double? { scaling.flatMap { Self.double($0[key]) } }
        switch type {
        case "default":
            return (theta, .none, partial)
        case "linear":
            guard let factor = value("factor"), factor > 0 else { throw fail("linear rope scaling needs a positive factor") }
            return (theta, .linear(factor: factor), partial)
        case "llama3":
            guard let factor = value("factor"), let low = value("low_freq_factor"), let high = value("high_freq_factor"),
                  let original = value("original_max_position_embeddings") else {
                throw fail("llama3 rope scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings")
            }
            return (theta, .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: Int(original)), partial)
        default:
            throw fail("unsupported rope type \"\(type)\"; supported: default, linear, llama3")
        }
    }

    /// Per layer, the sliding window from `layer_types` (`sliding_attention`) and `sliding_window`.
    public func slidingWindows(layers: Int, defaultPattern: ((Int) -> Bool)? = nil) throws -> [Int?] {
        let window = int("sliding_window")
        let sliding: [Bool]
        if case .array(let types) = object["layer_types"] {
            guard types.count == layers else { throw fail("layer_types has \(types.count) entries for \(layers) layers") }
            sliding = try types.map { t in
                switch t.stringValue {
                case "sliding_attention": return true
                case "full_attention": return false
                default: throw fail("unsupported layer type \(t); supported: sliding_attention, full_attention")
                }
            }
        } else {
            sliding = (0..<layers).map { defaultPattern?($0) ?? false }
        }
        if sliding.contains(true) && (window ?? 0) <= 0 { throw fail("sliding attention layers need a positive \"sliding_window\"") }
        return sliding.map { $0 ? window : nil }
    }
}
