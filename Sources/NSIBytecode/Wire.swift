/// Little-endian bytes, LEB128 varints and zigzag for signed numbers.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// A count, index or register: never negative (the lowering makes sure).
    mutating func uint(_ v: Int) { varint(UInt64(UInt(bitPattern: v))) }
    mutating func sint(_ v: Int) { varint(zigzag(v)) }
    /// 0 for nil, else the number + 1.
    mutating func optionalUInt(_ v: Int?) { varint(v.map { UInt64(UInt(bitPattern: $0)) &+ 1 } ?? 0) }
    mutating func optionalSInt(_ v: Int?) { varint(v.map { zigzag($0) &+ 1 } ?? 0) }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        uint(utf8.count)
        bytes += utf8
    }

    /// A section: its tag, its length, then its content.
    mutating func section(_ tag: SectionTag, _ content: ByteWriter) {
        u8(tag.rawValue)
        uint(content.bytes.count)
        bytes += content.bytes
    }
}

func zigzag(_ v: Int) -> UInt64 { UInt64(bitPattern: Int64(v) << 1 ^ Int64(v) >> 63) }
func unzigzag(_ u: UInt64) -> Int { Int(Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)) }

/// Reads one section of a body: every read is bounded by the section's end, and every
/// failure names the offset in the body.
struct ByteReader {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let section: String

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil, section: String) {
        self.bytes = bytes
        position = start
        self.end = end ?? bytes.count
        self.section = section
    }

    var remaining: Int { end - position }
    var atEnd: Bool { position >= end }

    mutating func u8() throws(BytecodeError) -> UInt8 {
        guard position < end else { throw .truncatedSection(section: section, offset: position) }
        let b = bytes[position]
        position &+= 1
        return b
    }

    mutating func u32() throws(BytecodeError) -> UInt32 {
        guard remaining >= 4 else { throw .truncatedSection(section: section, offset: position) }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * i) }
        position += 4
        return v
    }

    mutating func u64() throws(BytecodeError) -> UInt64 {
        guard remaining >= 8 else { throw .truncatedSection(section: section, offset: position) }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * i) }
        position += 8
        return v
    }

    /// A canonical LEB128 varint of at most 10 bytes: no redundant trailing zero group,
    /// so each number has exactly one encoding and a plan re-encodes to the same bytes.
    mutating func varint() throws(BytecodeError) -> UInt64 {
        let start = position
        // Most numbers in a plan fit one byte.
        if position < end && bytes[position] < 0x80 {
            position &+= 1
            return UInt64(bytes[start])
        }
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            if shift == 63 && b > 1 { throw .malformedVarint(offset: start) }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 {
                if b == 0 && position - start > 1 { throw .malformedVarint(offset: start) }
                return v
            }
            shift += 7
        }
    }

    /// A non-negative number that fits an Int.
    mutating func uint() throws(BytecodeError) -> Int {
        let start = position
        let v = try varint()
        guard v <= UInt64(Int.max) else { throw .limitExceeded(what: "a number", value: Int.max, limit: Int.max, offset: start) }
        return Int(v)
    }

    mutating func sint() throws(BytecodeError) -> Int { unzigzag(try varint()) }

    mutating func optionalUInt() throws(BytecodeError) -> Int? {
        let start = position
        let v = try varint()
        if v == 0 { return nil }
        guard v - 1 <= UInt64(Int.max) else { throw .limitExceeded(what: "a number", value: Int.max, limit: Int.max, offset: start) }
        return Int(v - 1)
    }

    mutating func optionalSInt() throws(BytecodeError) -> Int? {
        let v = try varint()
        return v == 0 ? nil : unzigzag(v - 1)
    }

    /// A count bounded by a limit and by the bytes left (each element takes at least
    /// `minBytes`), so no count makes the decoder allocate or loop beyond its input.
    mutating func count(_ what: String, limit: Int, minBytes: Int = 1) throws(BytecodeError) -> Int {
        let start = position
        let n = try uint()
        guard n <= limit else { throw .limitExceeded(what: what, value: n, limit: limit, offset: start) }
        guard minBytes == 0 || n <= remaining / minBytes else { throw .truncatedSection(section: section, offset: start) }
        return n
    }

    mutating func flag() throws(BytecodeError) -> Bool {
        let start = position
        let b = try u8()
        guard b <= 1 else { throw .unknownTag(what: "flag", tag: Int(b), offset: start) }
        return b == 1
    }

    mutating func string(limit: Int) throws(BytecodeError) -> String {
        let start = position
        let n = try count("string length", limit: limit)
        let slice = bytes[position..<(position + n)]
        position += n
        guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
        return s
    }
}

/// The sections of a body, in the order they must appear.
enum SectionTag: UInt8, CaseIterable {
    case strings = 1, ints, floats, tensors, values, types, params, saves, blocks, code, lines

    var name: String {
        switch self {
        case .strings: return "strings"
        case .ints: return "ints"
        case .floats: return "floats"
        case .tensors: return "tensors"
        case .values: return "values"
        case .types: return "types"
        case .params: return "params"
        case .saves: return "saves"
        case .blocks: return "blocks"
        case .code: return "code"
        case .lines: return "lines"
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of the body, so corruption
/// that still decompresses is caught before parsing.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { b in
                guard let tp = t.baseAddress, let bp = b.baseAddress else { return }
                var i = 0
                while i < b.count {
                    c = tp[Int((c ^ UInt32(bp[i])) & 0xFF)] ^ (c >> 8)
                    i &+= 1
                }
            }
        }
        return c ^ 0xFFFF_FFFF
    }
}
