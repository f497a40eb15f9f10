/// The byte-level alphabet of GPT-2 style tokenizers: every byte is given a printable
/// Unicode character so that vocabulary entries are plain strings. Printable Latin-1
/// bytes stand for themselves; the rest (controls, space, soft hyphen) are moved to
/// U+0100 and up in byte order.
enum ByteLevelAlphabet {
    /// The character standing for each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var shifted: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(shifted) ?? "\0"
                shifted += 1
            }
        }
        return table
    }()

    /// The byte for each character value below `byteForScalar.count`, or -1.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, scalar) in scalarForByte.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    /// Appends the bytes a token stands for; a token with a character outside the alphabet
    /// (an added token such as "<|im_end|>" may have one) contributes its UTF-8 instead.
    static func appendBytes(of token: String, to out: inout [UInt8]) {
        let mark = out.count
        for scalar in token.unicodeScalars {
            let v = Int(scalar.value)
            guard v < byteForScalar.count, byteForScalar[v] >= 0 else {
                out.removeSubrange(mark...)
                out.append(contentsOf: token.utf8)
                return
            }
            out.append(UInt8(byteForScalar[v]))
        }
    }

    /// The token string spelling the given bytes.
    static func string(of bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }
}
