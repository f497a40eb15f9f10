import Foundation
import NSITensor
import NSITestSupport


/// A SplitMix64 generator with helpers for random floats and tensors, so failures reproduce.
typealias SeededRandom = SplitMix64

extension SplitMix64 {
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &self) } }
    mutating func tensor(_ shape: [Int]) -> Tensor { Tensor(shape: shape, floats: floats(shape.reduce(1, *))) }
}

func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
