import NSISource

extension Lexer {
    /// A string literal in `"` (or, reported, in `'`), decoded. It ends at its closing
    /// quote or, unterminated, at the end of the line.
    mutating func lexString() -> Token {
        let start = offset
        let quote = bytes[offset]
        offset += 1
        var value = String.UnicodeScalarView()
        var terminated = false
        while let byte = peek(), byte != UInt8(ascii: "\n") {
            if byte == quote {
                offset += 1
                terminated = true
                break
            }
            if byte == UInt8(ascii: "\\") {
                lexEscape(quote: quote, into: &value)
            } else if let scalar = UTF8Scan.scalar(in: bytes, at: offset).scalar {
                value.append(scalar)
                offset += UTF8Scan.scalar(in: bytes, at: offset).length
            } else {
                skipScalar(reportingInvalidUTF8: true)
                value.append("\u{FFFD}")
            }
        }
        let range = SourceRange(start: start, end: offset)
        if !terminated {
            report(.unterminatedString, SourceRange(start: start, end: start + 1))
        } else if quote == UInt8(ascii: "'") {
            report(.singleQuotedString, range)
        }
        return Token(kind: .string, range: range, stringValue: String(value))
    }

    private mutating func lexEscape(quote: UInt8, into value: inout String.UnicodeScalarView) {
        let start = offset
        guard let next = peek(1), next != UInt8(ascii: "\n") else {
            offset += 1   // a `\` at the end of the line: the string is unterminated
            return
        }
        switch UnicodeScalar(next) {
        case "n": value.append("\n")
        case "t": value.append("\t")
        case "r": value.append("\r")
        case "\\": value.append("\\")
        case "u":
            lexUnicodeEscape(into: &value)
            return
        default:
            if next == quote {
                value.append(UnicodeScalar(quote))
            } else {
                offset += 1
                skipScalar(reportingInvalidUTF8: true)
                report(.unknownEscape(String(decoding: bytes[start..<offset], as: UTF8.self)), SourceRange(start: start, end: offset))
                return
            }
        }
        offset += 2
    }

    /// `\u{` one to eight hex digits `}` naming a Unicode scalar.
    private mutating func lexUnicodeEscape(into value: inout String.UnicodeScalarView) {
        let start = offset
        offset += 2
        guard peek() == UInt8(ascii: "{") else {
            report(.invalidUnicodeEscape(reason: "expected `{` after `\\u`"), SourceRange(start: start, end: offset))
            return
        }
        offset += 1
        let digitsStart = offset
        while let byte = peek(), byte.isHexDigit { offset += 1 }
        let digits = String(decoding: bytes[digitsStart..<offset], as: UTF8.self)
        guard peek() == UInt8(ascii: "}") else {
            report(.invalidUnicodeEscape(reason: "expected `}` after the hex digits"), SourceRange(start: start, end: offset))
            return
        }
        offset += 1
        let range = SourceRange(start: start, end: offset)
        if digits.isEmpty {
            report(.invalidUnicodeEscape(reason: "no hex digits"), range)
        } else if digits.count > 8 {
            report(.invalidUnicodeEscape(reason: "more than eight hex digits"), range)
        } else if let scalar = UInt32(digits, radix: 16).flatMap(Unicode.Scalar.init) {
            value.append(scalar)
        } else {
            report(.invalidUnicodeEscape(reason: "U+\(digits.uppercased()) is not a Unicode scalar value"), range)
        }
    }
}
