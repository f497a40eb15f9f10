import NSISource

extension Lexer {
    /// `42`, `1_000`, `0.5`, `.5`, `2.`, `1e-3`, `2.5E+4`. Digits followed by letters
    /// (`12abc`, `0x1F`, `1e`) are one malformed literal, not a number and a name.
    mutating func lexNumber() -> Token {
        let start = offset
        var isFloat = false
        skipDigits()
        if peek() == UInt8(ascii: "."), peek(1) != UInt8(ascii: ".") {
            if peek(1)?.isDigit == true {
                offset += 1
                skipDigits()
                isFloat = true
            } else if exponentLength(at: offset + 1) > 0 || !(peek(1)?.isIdentifierStart ?? false) {
                offset += 1   // `2.` and `2.e5`; but `2.abs` stays an integer and an attribute
                isFloat = true
            }
        }
        let exponent = exponentLength(at: offset)
        if exponent > 0 {
            offset += exponent
            isFloat = true
        }
        var malformed = false
        while let byte = peek(), byte.isIdentifierContinue {
            offset += 1
            malformed = true
        }
        let range = SourceRange(start: start, end: offset)
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if malformed {
            report(.malformedNumber(text), range)
        } else if !NumberValue.fits(text, isFloat: isFloat) {
            report(.numberOutOfRange(text), range)
        }
        return Token(kind: isFloat ? .float : .integer, range: range)
    }

    /// Digits, with single underscores allowed between them.
    private mutating func skipDigits() {
        while let byte = peek() {
            if byte.isDigit {
                offset += 1
            } else if byte == UInt8(ascii: "_"), offset > 0, bytes[offset - 1].isDigit, peek(1)?.isDigit == true {
                offset += 1
            } else {
                break
            }
        }
    }

    /// The length of `e5`, `E-3`, `e+10` at `position`, or 0 when none is there.
    private func exponentLength(at position: Int) -> Int {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") else { return 0 }
        var end = position + 1
        if end < bytes.count, bytes[end] == UInt8(ascii: "+") || bytes[end] == UInt8(ascii: "-") { end += 1 }
        guard end < bytes.count, bytes[end].isDigit else { return 0 }
        while end < bytes.count, bytes[end].isDigit { end += 1 }
        return end - position
    }
}

/// The values of number literals, shared by the lexer (range check) and the parser.
enum NumberValue {
    /// Decimal digits and underscores to an Int64, nil on overflow; by hand because this
    /// runs for every integer literal, twice.
    static func integer(_ text: String) -> Int64? {
        var value: Int64 = 0
        for byte in text.utf8 where byte != UInt8(ascii: "_") {
            guard byte.isDigit else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    static func float(_ text: String) -> Double? {
        var digits = text.replacingUnderscores()
        if digits.hasPrefix(".") { digits = "0" + digits }
        if let dot = digits.firstIndex(of: "."), digits.index(after: dot) == digits.endIndex || !digits[digits.index(after: dot)].isNumber {
            digits.insert("0", at: digits.index(after: dot))   // `2.` and `2.e5`
        }
        guard let value = Double(digits), value.isFinite else { return nil }
        return value
    }

    static func fits(_ text: String, isFloat: Bool) -> Bool {
        isFloat ? float(text) != nil : integer(text) != nil
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        utf8.contains(UInt8(ascii: "_")) ? String(filter { $0 != "_" }) : self
    }
}
