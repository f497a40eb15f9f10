import Foundation
import Testing
import NSIZstd

@Suite struct ZstdTests {
    @Test func roundTripAndLimits() throws {
        let text = Data(String(repeating: "attention pattern ", count: 500).utf8)
        let packed = try Zstd.compress(text)
        #expect(packed.count < text.count / 10)
        #expect(Zstd.isFrame(packed))
        #expect(try Zstd.decompress(packed) == text)
        #expect(throws: ZstdError.self) { try Zstd.decompress(packed, limit: 100) }
        #expect(throws: ZstdError.self) { try Zstd.decompress(Data("not zstd".utf8)) }
        var corrupt = packed
        corrupt[corrupt.count - 3] ^= 0xFF
        #expect(throws: ZstdError.self) { try Zstd.decompress(corrupt) }
        #expect(throws: ZstdError.self) { try Zstd.decompress(packed.prefix(packed.count / 2)) }
    }
}
