import Foundation
import NSIJSON
import NSITensor

/// Rotary scaling variants in config.json's `rope_scaling` / `rope_parameters`.
public enum RopeScaling: Sendable, Equatable {
    case none
    /// Positions divided by the factor (Gemma 3's global layers).
    case linear(factor: Double)
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
}

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// What the runtime needs from a Hugging Face config.json. The family-independent fields
/// are read here; the family (see `ModelFamily.all`) reads the rest, including what one
/// block computes (`block`) and what its modules are called (`names`).
public struct ModelConfig: Sendable, Equatable {
    public static var supportedModelTypes: [String] { ModelFamily.all.flatMap(\.modelTypes) }

    public var modelType: String
    /// The registry name of the family that read this config.
    public var family: String
    public var vocabSize: Int
    public var hiddenSize = 0
    public var intermediateSize = 0
    public var numLayers = 0
    public var numHeads = 0
    public var numKVHeads = 0
    public var headDim = 0
    public var normEps = 1e-6
    public var ropeTheta = 10_000.0
    public var ropeScaling: RopeScaling = .none
    /// Theta and scaling of the layers with `block.localRope` set (Gemma 3's sliding layers).
    public var localRopeTheta: Double?
    public var localRopeScaling: RopeScaling = .none
    public var maxPositions = 2048
    public var tieWordEmbeddings = false
    /// The attention's input projections carry a bias.
    public var qkvBias = false
    /// The attention's output projection carries a bias.
    public var outputBias = false
    public var mlpBias = false
    /// LayerNorms carry a bias (GPT-2, GPT-NeoX).
    public var normBias = false
    /// The activation as config.json names it.
    public var hiddenAct = "silu"
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var block = Block()
    public var names = ModuleNames()

    /// Whether q and k are normalized before rotary (Qwen3, Gemma 3, OLMo 2).
    public var qkNorm: Bool { block.qkNorm != .none }

    public init(contentsOf url: URL) throws {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(path: path, message: "cannot read the file")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch {
            throw ConfigError(path: path, message: "not valid JSON")
        }
        guard let object = json.dictionary else { throw ConfigError(path: path, message: "expected a JSON object") }
        try self.init(json: object, path: path)
    }

    public init(json c: [String: JSONValue], path: String = "config.json") throws {
        let keys = ConfigKeys(c, path: path)
        let supported = ModelConfig.supportedModelTypes.joined(separator: ", ")
        guard let type = keys.string("model_type") else {
            throw keys.fail("no \"model_type\"; supported model types: \(supported)")
        }
        guard let family = ModelFamily.family(modelType: type) else {
            throw keys.fail("unsupported architecture \"\(type)\"; supported model types: \(supported)")
        }
        modelType = type
        self.family = family.name
        vocabSize = try keys.require("vocab_size")
        bosTokenId = keys.int("bos_token_id")
        switch c["eos_token_id"] {
        case .int(let i): eosTokenIds = [Int(i)]
        case .array(let a): eosTokenIds = a.compactMap(\.intValue)
        default: eosTokenIds = []
        }
        try family.read(&self, keys)
        try validate(keys)
    }

    /// Checks what every family needs, and fills the block's per-layer defaults.
    mutating func validate(_ keys: ConfigKeys) throws {
        guard numHeads > 0, numKVHeads > 0, headDim > 0, numLayers > 0, hiddenSize > 0, intermediateSize > 0 else {
            throw keys.fail("the config gives no positive hidden size, layer count, head count or head dimension")
        }
        guard numHeads % numKVHeads == 0 else {
            throw keys.fail("num_attention_heads (\(numHeads)) is not a multiple of num_key_value_heads (\(numKVHeads))")
        }
        if block.attentionScale == 0 { block.attentionScale = 1 / Double(headDim).squareRoot() }
        if block.windows.isEmpty { block.windows = Array(repeating: nil, count: numLayers) }
        if block.localRope.isEmpty { block.localRope = Array(repeating: false, count: numLayers) }
        guard block.windows.count == numLayers, block.localRope.count == numLayers else {
            throw keys.fail("per-layer attention settings do not cover the \(numLayers) layers")
        }
        if block.positions == .rotary {
            if block.rotaryDims == 0 { block.rotaryDims = headDim }
            guard block.rotaryDims % 2 == 0, block.rotaryDims <= headDim, block.rotaryDims > 0 else {
                throw keys.fail("rotary dimensions \(block.rotaryDims) must be even and at most head_dim \(headDim)")
            }
        }
    }

    /// Loads `config.json` from a model folder, and eos ids from `generation_config.json` when the config has none.
    public static func load(directory: String) throws -> ModelConfig {
        let dir = URL(fileURLWithPath: directory)
        var config = try ModelConfig(contentsOf: dir.appendingPathComponent("config.json"))
        let gen = dir.appendingPathComponent("generation_config.json")
        if config.eosTokenIds.isEmpty, let data = FileManager.default.contents(atPath: gen.path),
           let object = (try? JSONValue.parse(data))?.dictionary {
            switch object["eos_token_id"] {
            case .int(let i): config.eosTokenIds = [Int(i)]
            case .array(let a): config.eosTokenIds = a.compactMap(\.intValue)
            default: break
            }
        }
        return config
    }

    /// Rotary inverse frequencies [rotaryDims / 2], computed in f32 as transformers does;
    /// `local` gives those of the layers with `block.localRope` set.
    public func inverseFrequencies(local: Bool = false) -> [Float] {
        let theta = local ? (localRopeTheta ?? ropeTheta) : ropeTheta
        let scaling = local ? localRopeScaling : ropeScaling
        let dims = block.rotaryDims > 0 ? block.rotaryDims : headDim
        let half = dims / 2
        var inv = (0..<half).map { i -> Float in 1 / powf(Float(theta), Float(2 * i) / Float(dims)) }
        switch scaling {
        case .none:
            break
        case .linear(let factor):
            inv = inv.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
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
