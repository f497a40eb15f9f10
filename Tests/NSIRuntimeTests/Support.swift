import Foundation
import Testing
import NSITensor
import NSIModel
import NSIRuntime
import NSITestSupport


/// reference.json of a tiny model: HF transformers outputs for fixed input ids.
struct TinyReference: Decodable {
    let input_ids: [Int]
    let logits: [[Float]]
    let hidden_states_last_row: [[Float]]
    let greedy8_ids: [Int]

    static func load(_ model: String) throws -> TinyReference {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny/\(model)/reference.json")))
        return try JSONDecoder().decode(TinyReference.self, from: data)
    }
}

/// Cache of loaded models: loading once per test process keeps the suite fast.
final class ModelCache: @unchecked Sendable {
    static let shared = ModelCache()
    private let lock = NSLock()
    private var models: [String: Transformer] = [:]

    func model(_ path: String) throws -> Transformer {
        lock.lock()
        defer { lock.unlock() }
        if let m = models[path] { return m }
        let m = try Transformer(directory: path)
        models[path] = m
        return m
    }

    func tiny(_ name: String) throws -> Transformer { try model(Fixtures.path("tiny/\(name)")) }
}
