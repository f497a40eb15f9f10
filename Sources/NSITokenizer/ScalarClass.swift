/// The character classes the pre-tokenizer patterns use: `\p{L}`, `\p{N}` and `\s`
/// (the Unicode White_Space property, as Oniguruma and Rust define it). ASCII is looked
/// up in a table because almost all text is mostly ASCII and Unicode property lookups
/// are comparatively slow.
enum ScalarClass {
    private static let letterFlag: UInt8 = 1
    private static let numberFlag: UInt8 = 2
    private static let spaceFlag: UInt8 = 4

    private static let ascii: [UInt8] = (0..<128).map { v -> UInt8 in
        switch v {
        case 0x41...0x5A, 0x61...0x7A: return letterFlag
        case 0x30...0x39: return numberFlag
        case 0x09...0x0D, 0x20: return spaceFlag
        default: return 0
        }
    }

    @inline(__always)
    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 128 { return ascii[Int(s.value)] & letterFlag != 0 }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always)
    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        if s.value < 128 { return ascii[Int(s.value)] & numberFlag != 0 }
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    @inline(__always)
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        if s.value < 128 { return ascii[Int(s.value)] & spaceFlag != 0 }
        return s.properties.isWhitespace
    }

    /// `[^\s\p{L}\p{N}]`: punctuation, symbols, controls and the like.
    @inline(__always)
    static func isOther(_ s: Unicode.Scalar) -> Bool {
        !isWhitespace(s) && !isLetter(s) && !isNumber(s)
    }

    @inline(__always)
    static func isLineBreak(_ s: Unicode.Scalar) -> Bool {
        s == "\n" || s == "\r"
    }

    /// A word character for single-word added tokens, as the reference's `\w` defines it:
    /// alphabetic, a mark, a decimal digit, connector punctuation (such as "_") or a joiner.
    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 128 { return ascii[Int(s.value)] & (letterFlag | numberFlag) != 0 || s == "_" }
        let p = s.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
