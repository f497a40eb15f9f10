import Foundation
import Testing
@testable import NSITensor
import NSITestSupport

/// Mutation fuzzing of the safetensors reader: corrupted headers, corrupted length
/// prefixes and truncated files. Every input must either be rejected with an error or
/// be fully valid (every tensor readable inside the file); nothing may crash.
/// `NSI_FUZZ_ITERATIONS` runs more than the default.
@Suite struct SafetensorsFuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["NSI_FUZZ_ITERATIONS"] ?? "") ?? 12_000

    @Test func corruptedHeadersAndTruncatedFiles() throws {
        let seedFile = try SafetensorsWriter.encode([
            ("w", Tensor(shape: [3, 4], floats: (0..<12).map(Float.init))),
            ("ids", Tensor(shape: [5], int64s: [1, 2, 3, 4, 5])),
            ("b", Tensor(shape: [2], int32s: [7, 8])),
        ], metadata: ["format": "pt"])
        let headerEnd = 8 + Int(seedFile[0]) + Int(seedFile[1]) << 8
        var rng = SeededRandom(seed: 2024)
        var rejected = 0, accepted = 0, truncations = 0
        let tokens = Array("{}[]\",:0123456789-.eE ".utf8) + [0x00, 0xFF, 0xC3]
        for i in 0..<SafetensorsFuzzTests.iterations {
            var bytes = [UInt8](seedFile)
            var mustReject = false
            switch i % 6 {
            case 0:  // truncate anywhere: the last tensor's bytes go missing
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
                mustReject = true
                truncations += 1
            case 1:  // random bytes in the header
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 8..<headerEnd, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            case 2:  // JSON-significant characters in the header
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 8..<headerEnd, using: &rng)] = tokens.randomElement(using: &rng)!
                }
            case 3:  // a corrupted length prefix
                bytes[Int.random(in: 0..<8, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 4:  // digits swapped in shapes and offsets
                let digits = (8..<headerEnd).filter { (48...57).contains(bytes[$0]) }
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    if let at = digits.randomElement(using: &rng) { bytes[at] = UInt8.random(in: 48...57, using: &rng) }
                }
            default:  // header bytes deleted or duplicated, length prefix unchanged
                let at = Int.random(in: 8..<headerEnd, using: &rng)
                if Bool.random(using: &rng) { bytes.remove(at: at) } else { bytes.insert(bytes[at], at: at) }
            }
            let data = Data(bytes)
            do {
                let header = try parseHeader(data)
                #expect(!mustReject, "iteration \(i): a truncated file was accepted")
                for e in header.entries {
                    #expect(header.dataStart + e.dataRange.upperBound <= data.count)
                    #expect(e.dataRange.count == e.shape.reduce(1, *) * e.dtype.size)
                }
                accepted += 1
            } catch is SafetensorsError {
                rejected += 1
            }
        }
        // Truncation through the real file path too: mapped, validated, rejected.
        let dir = temporaryDirectory()
        for n in stride(from: 0, to: seedFile.count, by: 7) {
            let p = dir.appendingPathComponent("t\(n).safetensors").path
            try seedFile.prefix(n).write(to: URL(fileURLWithPath: p))
            #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: p) }
        }
        print("safetensors fuzz: \(SafetensorsFuzzTests.iterations) inputs, \(rejected) rejected, \(accepted) still valid, \(truncations) truncations all rejected")
        #expect(rejected + accepted == SafetensorsFuzzTests.iterations)
        #expect(rejected >= 10_000 || SafetensorsFuzzTests.iterations < 12_000)
    }

    @Test func deeplyNestedHeaderIsRejectedNotOverflowed() {
        let depth = 100_000
        let header = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: SafetensorsError.self) { try parseHeader(rawSafetensors(header, data: [])) }
    }
}
