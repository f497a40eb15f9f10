/// A strict JSON (RFC 8259) parser over UTF-8 bytes, the project's one JSON reader
/// (config.json, tokenizer.json, safetensors headers, params). Tokenizer files are several
/// megabytes and loaded on every CLI run: parsing bytes directly is several times faster
/// than going through Foundation, and a failure names the line and column where the text
/// stops making sense.
struct JSONParser {
    typealias Failure = JSONError

    /// Deep nesting would otherwise overflow the stack on hostile input.
    static let maxDepth = 128

    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0

    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.pos < bytes.count {
            throw parser.failure("unexpected \(parser.describeCurrent()) after the top-level value")
        }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func failure(_ message: String) -> Failure {
        var line = 1
        var lineStart = 0
        var i = 0
        let end = min(pos, bytes.count)
        while i < end {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        return Failure(message: message, line: line, column: end - lineStart + 1)
    }

    private func describeCurrent() -> String {
        guard let c = current else { return "end of file" }
        if c >= 0x20 && c < 0x7F { return "character '\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
            pos += 1
        }
    }

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard let c = current else { throw failure("unexpected end of file, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func expectLiteral(_ word: String) throws(Failure) {
        let literal = Array(word.utf8)
        guard pos + literal.count <= bytes.count, bytes[pos..<(pos + literal.count)].elementsEqual(literal) else {
            throw failure("invalid literal, expected '\(word)'")
        }
        pos += literal.count
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > JSONParser.maxDepth { throw failure("nesting deeper than \(JSONParser.maxDepth) levels") }
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        try enter()
        pos += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                throw failure("unexpected \(describeCurrent()), expected a member name in quotes")
            }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else {
                throw failure("unexpected \(describeCurrent()), expected ':' after member name")
            }
            pos += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"):
                pos += 1
                depth -= 1
                return .object(members)
            default: throw failure("unexpected \(describeCurrent()), expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        try enter()
        pos += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"):
                pos += 1
                depth -= 1
                return .array(elements)
            default: throw failure("unexpected \(describeCurrent()), expected ',' or ']' in an array")
            }
        }
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = pos
        if current == UInt8(ascii: "-") { pos += 1 }
        guard let first = current, isDigit(first) else { throw failure("invalid number") }
        if first == UInt8(ascii: "0") {
            pos += 1
        } else {
            skipDigits()
        }
        var integral = true
        if current == UInt8(ascii: ".") {
            integral = false
            pos += 1
            guard let c = current, isDigit(c) else { throw failure("invalid number: expected digits after '.'") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard let c = current, isDigit(c) else { throw failure("invalid number: expected digits in exponent") }
            skipDigits()
        }
        // Token ids are the common case: accumulate them directly instead of going through text.
        if integral && pos - start <= 18 {
            var value: Int64 = 0
            var i = start
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            while i < pos {
                value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
                i += 1
            }
            return .int(negative ? -value : value)
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        // An integer too long for the fast path stays exact when it fits in 64 bits.
        if integral, let exact = Int64(text) { return .int(exact) }
        guard let value = Double(text) else { throw failure("invalid number '\(text)'") }
        return .double(value)
    }

    private func isDigit(_ c: UInt8) -> Bool {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while let c = current, isDigit(c) { pos += 1 }
    }

    private mutating func parseString() throws(Failure) -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while let c = current, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\") {
            if c < 0x20 { throw failure("control character in a string") }
            pos += 1
        }
        guard let stop = current else { throw failure("unterminated string") }
        if stop == UInt8(ascii: "\"") {
            let s = try validatedString(start..<pos)
            pos += 1
            return s
        }
        var buffer = Array(bytes[start..<pos])
        while true {
            guard let c = current else { throw failure("unterminated string") }
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                return try validatedString(buffer)
            case UInt8(ascii: "\\"):
                pos += 1
                try parseEscape(into: &buffer)
            default:
                if c < 0x20 { throw failure("control character in a string") }
                buffer.append(c)
                pos += 1
            }
        }
    }

    private func validatedString(_ range: Range<Int>) throws(Failure) -> String {
        try validatedString(bytes[range])
    }

    private func validatedString<C: Collection<UInt8>>(_ codeUnits: C) throws(Failure) -> String {
        if #available(macOS 15, *) {
            guard let s = String(validating: codeUnits, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
            return s
        }
        // Older macOS lacks validating initialisers; repair with U+FFFD instead of failing.
        return String(decoding: codeUnits, as: UTF8.self)
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(Failure) {
        guard let c = current else { throw failure("unterminated escape") }
        pos += 1
        switch c {
        case UInt8(ascii: "\""): buffer.append(0x22)
        case UInt8(ascii: "\\"): buffer.append(0x5C)
        case UInt8(ascii: "/"): buffer.append(0x2F)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xD800..<0xDC00).contains(code),
               pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                let save = pos
                pos += 2
                let low = try parseHex4()
                if (0xDC00..<0xE000).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    pos = save
                }
            }
            // A lone surrogate cannot be represented; substitute U+FFFD like other decoders do.
            let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
            buffer.append(contentsOf: Array(String(scalar).utf8))
        default:
            pos -= 1
            throw failure("invalid escape '\\\(Character(Unicode.Scalar(c)))'")
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw failure("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw failure("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }
}
