import NSIRuntime
import NSIVM

/// What a run saved, by name, in the order the script saves them: tensors (a topk save
/// as `key.values` and `key.indices`, numbers as rank-0 tensors, bools as u8; the
/// names and values `nsi run` writes to its safetensors file), strings, and what each
/// generate block produced.
public struct Results: Sendable {
    /// Every saved tensor, in save order.
    public let tensors: [(name: String, tensor: TensorData)]
    /// Every saved string value (a `str`, or one string per row), in save order.
    public let strings: [(name: String, values: [String])]
    /// Each block that ran, in order.
    public let blocks: [Block]
    public let milliseconds: Double
    /// Everything but the tensors' values, as the JSON sidecar `nsi run` writes: prompts,
    /// token ids, generated text, strings, dtypes and shapes.
    public let json: String

    /// What one trace or generate block ran on, and for a generate what it produced.
    public struct Block: Sendable {
        public enum Kind: String, Sendable { case trace, generate }
        public let kind: Kind
        public let prompts: [String]
        public let tokenIds: [[Int]]
        /// New token ids per row (generate blocks only).
        public let generatedIds: [[Int]]?
        /// The decoded new tokens per row (generate blocks only).
        public let generatedText: [String]?
    }

    public subscript(name: String) -> TensorData? { tensors.first { $0.name == name }?.tensor }
    public func strings(_ name: String) -> [String]? { strings.first { $0.name == name }?.values }

    init(_ r: RunResults, planName: String, model: LanguageModel) {
        tensors = ResultsFile.tensors(r).map { ($0.0, TensorData($0.1)) }
        strings = r.values.compactMap { key, v in
            switch v {
            case .str(let s): return (key, [s])
            case .strings(let s): return (key, s)
            default: return nil
            }
        }
        blocks = r.blocks.map {
            Block(kind: $0.kind == "generate" ? .generate : .trace, prompts: $0.prompts, tokenIds: $0.tokenIds,
                  generatedIds: $0.generatedIds, generatedText: $0.generatedText)
        }
        milliseconds = r.milliseconds
        json = ResultsFile.json(r, script: planName, model: model.directory)
    }
}
