import Foundation
import NSIZstd

/// The file around a body. Everything but the body is a fixed 92-byte header, checked
/// field by field, each with its own error:
///
///     offset size
///      0     4   magic "NSIP"
///      4     4   0d 0a 1a 0a: detects CRLF translation and text-mode truncation
///      8     2   format version (u16)
///     10     2   flags (u16, none defined: must be 0)
///     12     4   byte-order check: the u32 0x04030201, written 01 02 03 04
///     16    64   SHA-256 of the model signature checked against, lowercase hex
///     80     4   body size before compression (u32)
///     84     4   CRC-32 of the body before compression
///     88     4   compressed body size (u32), which must be the rest of the file
///     92     n   the body: one zstd frame
enum Container {
    static let magic: [UInt8] = Array("NSIP".utf8)
    static let detection: [UInt8] = [0x0D, 0x0A, 0x1A, 0x0A]
    static let byteOrderCheck: UInt32 = 0x0403_0201
    static let headerSize = 92

    struct Header: Equatable {
        var version: Int
        var flags: Int
        var signatureHash: String
        var bodySize: Int
        var checksum: UInt32
        var compressedSize: Int
    }

    /// Compresses a body and puts the header before it. Large bodies (big tensor
    /// constants) get a faster level; the level depends only on the size, so the same
    /// body always gives the same bytes.
    static func seal(body: [UInt8], signatureHash: String, version: Int = Bytecode.formatVersion, flags: Int = 0,
                     level: Int32? = nil) throws(BytecodeError) -> Data {
        let hashBytes = Array(signatureHash.utf8)
        guard isHash(hashBytes) else { throw .notEncodable("the signature hash is not 64 lowercase hex digits") }
        guard body.count <= Int(UInt32.max) else { throw .notEncodable("the body of \(body.count) bytes is too large") }
        let compressed: Data
        do {
            compressed = try Zstd.compress(Data(body), level: level ?? (body.count < 1 << 20 ? 19 : 3))
        } catch {
            throw .notEncodable("zstd: \(error)")
        }
        var w = ByteWriter()
        w.bytes += magic
        w.bytes += detection
        w.u16(UInt16(truncatingIfNeeded: version))
        w.u16(UInt16(truncatingIfNeeded: flags))
        w.u32(byteOrderCheck)
        w.bytes += hashBytes
        w.u32(UInt32(body.count))
        w.u32(CRC32.checksum(body))
        w.u32(UInt32(compressed.count))
        var out = Data(w.bytes)
        out.append(compressed)
        return out
    }

    /// Reads and checks the header (everything but the body).
    static func header(_ data: Data, limits: BytecodeLimits) throws(BytecodeError) -> Header {
        let bytes = [UInt8](data.prefix(headerSize))
        if bytes.count >= 4 && Array(bytes[0..<4]) != magic { throw .badMagic(found: Array(bytes[0..<4])) }
        if bytes.count < 4 && bytes != Array(magic.prefix(bytes.count)) { throw .badMagic(found: bytes) }
        guard bytes.count >= headerSize else { throw .truncatedHeader(size: data.count, needed: headerSize) }
        guard Array(bytes[4..<8]) == detection else { throw .mangledHeader(found: Array(bytes[4..<8])) }
        var r = ByteReader(bytes, from: 8, section: "header")
        let version = Int(try r.u8()) | Int(try r.u8()) << 8
        guard version == Bytecode.formatVersion else { throw .unsupportedVersion(found: version, supported: Bytecode.formatVersion) }
        let flags = Int(try r.u8()) | Int(try r.u8()) << 8
        guard flags == 0 else { throw .unsupportedFlags(flags) }
        let order = try r.u32()
        guard order == byteOrderCheck else { throw .byteOrderMismatch(found: order) }
        let hashBytes = Array(bytes[16..<80])
        guard isHash(hashBytes) else {
            let printable = hashBytes.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "?" }
            throw .malformedSignatureHash(String(printable))
        }
        r.position = 80
        let bodySize = Int(try r.u32())
        let checksum = try r.u32()
        let compressedSize = Int(try r.u32())
        guard bodySize <= limits.maxBodyBytes else { throw .bodyTooLarge(size: bodySize, limit: limits.maxBodyBytes) }
        let available = data.count - headerSize
        guard compressedSize <= available else { throw .truncatedBody(declared: compressedSize, available: available) }
        guard compressedSize == available else { throw .trailingBytes(count: available - compressedSize) }
        return Header(version: version, flags: flags, signatureHash: String(decoding: hashBytes, as: UTF8.self),
                      bodySize: bodySize, checksum: checksum, compressedSize: compressedSize)
    }

    /// Checks the header, decompresses the body and checks its size and checksum.
    static func open(_ data: Data, limits: BytecodeLimits) throws(BytecodeError) -> (Header, [UInt8]) {
        let h = try header(data, limits: limits)
        let frame = data.subdata(in: (data.startIndex + headerSize)..<data.endIndex)
        let body: Data
        do {
            body = try Zstd.decompress(frame, limit: h.bodySize)
        } catch {
            throw .decompressionFailed("\(error)")
        }
        guard body.count == h.bodySize else { throw .bodySizeMismatch(declared: h.bodySize, actual: body.count) }
        let bytes = [UInt8](body)
        let sum = CRC32.checksum(bytes)
        guard sum == h.checksum else { throw .checksumMismatch(declared: h.checksum, actual: sum) }
        return (h, bytes)
    }

    static func isHash(_ bytes: [UInt8]) -> Bool {
        bytes.count == 64 && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
