import CZstd
import Foundation

public struct ZstdError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// One-shot zstd frames (libzstd). Decompression needs the frame to state its size and
/// refuses frames larger than `limit`, so a hostile input cannot exhaust memory.
public enum Zstd {
    public static func compress(_ data: Data, level: Int32 = 3) throws -> Data {
        let bound = ZSTD_compressBound(data.count)
        var out = Data(count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, data.count, level)
            }
        }
        if ZSTD_isError(written) != 0 { throw ZstdError(message: "zstd: \(String(cString: ZSTD_getErrorName(written)))") }
        out.count = written
        return out
    }

    public static func decompress(_ data: Data, limit: Int = 1 << 30) throws -> Data {
        let size = data.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, data.count) }
        if size == ZSTD_CONTENTSIZE_ERROR { throw ZstdError(message: "zstd: not a zstd frame") }
        if size == ZSTD_CONTENTSIZE_UNKNOWN { throw ZstdError(message: "zstd: frame does not state its size") }
        guard size <= UInt64(limit) else { throw ZstdError(message: "zstd: frame of \(size) bytes exceeds the limit of \(limit)") }
        var out = Data(count: Int(size))
        let n = out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                ZSTD_decompress(dst.baseAddress, Int(size), src.baseAddress, data.count)
            }
        }
        if ZSTD_isError(n) != 0 { throw ZstdError(message: "zstd: \(String(cString: ZSTD_getErrorName(n)))") }
        guard n == Int(size) else { throw ZstdError(message: "zstd: frame decoded to \(n) bytes, expected \(size)") }
        return out
    }

    public static func isFrame(_ data: Data) -> Bool {
        data.count >= 4 && data.prefix(4) == Data([0x28, 0xB5, 0x2F, 0xFD])
    }
}
