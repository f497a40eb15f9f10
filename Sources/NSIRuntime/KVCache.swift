import NSIModel
import NSITensor

/// Keys and values of every layer for the slots processed so far, laid out
/// [B, capacity, kvHeads, headDim] so that the `attn.k`/`attn.v` points are plain views
/// `[:, :S]`; a write through those views is what later steps attend to.
public final class KVCache: @unchecked Sendable {
    public let rows: Int
    public let capacity: Int
    public private(set) var keys: [Tensor]
    public private(set) var values: [Tensor]
    /// Slots filled so far (S before the next forward pass).
    public internal(set) var length = 0
    /// Per row and slot: a real token (attended to) or padding.
    public internal(set) var valid: [[Bool]]

    public init(config c: ModelConfig, rows: Int, capacity: Int) {
        self.rows = rows
        self.capacity = capacity
        keys = (0..<c.numLayers).map { _ in Tensor(zeros: [rows, capacity, c.numKVHeads, c.headDim]) }
        values = (0..<c.numLayers).map { _ in Tensor(zeros: [rows, capacity, c.numKVHeads, c.headDim]) }
        valid = Array(repeating: Array(repeating: false, count: capacity), count: rows)
    }
}
