/// The text of one script, as bytes, with a table of line starts.
///
/// The bytes are kept as read: a file with invalid UTF-8 is still a SourceFile, and the
/// lexer reports the bad bytes instead of the loader refusing the file.
public struct SourceFile: Sendable {
    /// The name printed in diagnostics (`--> path:line:col`).
    public let path: String
    public let bytes: [UInt8]
    /// Offset of the first byte of each line; line n (1-based) starts at lineStarts[n - 1].
    public let lineStarts: [Int]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        bytes.withUnsafeBufferPointer { buffer in
            for offset in 0..<buffer.count where buffer[offset] == UInt8(ascii: "\n") {
                starts.append(offset + 1)
            }
        }
        self.lineStarts = starts
    }

    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    public var lineCount: Int { lineStarts.count }

    /// The 1-based line that holds `offset` (offsets past the end belong to the last line).
    public func line(of offset: Int) -> Int {
        let offset = max(0, min(offset, bytes.count))
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    public func location(of offset: Int) -> SourceLocation {
        let offset = max(0, min(offset, bytes.count))
        let line = line(of: offset)
        return SourceLocation(line: line, column: SourceFile.scalarCount(bytes[lineStarts[line - 1]..<offset]) + 1)
    }

    /// Byte offsets of a line's content, without its `\n` (or `\r\n`).
    public func lineContent(_ line: Int) -> Range<Int> {
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return start..<end
    }

    /// The number of scalars in UTF-8 bytes: the bytes that are not continuation bytes
    /// (so in invalid UTF-8 every stray lead byte counts one). No allocation: columns of
    /// very long lines are cheap.
    public static func scalarCount(_ bytes: ArraySlice<UInt8>) -> Int {
        var count = 0
        for byte in bytes where byte & 0xC0 != 0x80 { count += 1 }
        return count
    }

    public func lineText(_ line: Int) -> String {
        String(decoding: bytes[lineContent(line)], as: UTF8.self)
    }

    public func text(in range: SourceRange) -> String {
        let start = max(0, min(range.start, bytes.count))
        let end = max(start, min(range.end, bytes.count))
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
