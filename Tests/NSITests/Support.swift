import Foundation
import NSI
import NSITestSupport

extension Fixtures {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: Model?

    /// SmolLM2, loaded once for the suite.
    static func model() throws -> Model {
        lock.lock()
        defer { lock.unlock() }
        if let m = loaded { return m }
        let m = try Model(directory: modelDirectory!)
        loaded = m
        return m
    }
}

/// How many mappings of safetensors files this process has: one per loaded model.
func weightMappings() -> Int {
    guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
    return maps.split(separator: "\n").filter { $0.hasSuffix(".safetensors") }.count
}

/// Every tensor of two results equal bit for bit, in the same order with the same names.
func identical(_ a: Results, _ b: Results) -> Bool {
    guard a.tensors.map(\.name) == b.tensors.map(\.name) else { return false }
    for (x, y) in zip(a.tensors, b.tensors) {
        guard x.tensor.dtype == y.tensor.dtype, x.tensor.shape == y.tensor.shape else { return false }
        let same = x.tensor.withUnsafeBytes { p in y.tensor.withUnsafeBytes { q in p.elementsEqual(q) } }
        if !same { return false }
    }
    return a.strings.map(\.name) == b.strings.map(\.name) && a.strings.map(\.values) == b.strings.map(\.values)
        && a.blocks.map(\.generatedIds) == b.blocks.map(\.generatedIds)
}
