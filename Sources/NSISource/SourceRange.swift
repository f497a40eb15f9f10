/// A half-open range of UTF-8 byte offsets into one source file.
///
/// Offsets, not line/column pairs, are stored everywhere: they are cheap to compare and
/// to slice with, and line and column are only needed when something is printed.
public struct SourceRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        precondition(start <= end, "range start \(start) is after its end \(end)")
        self.start = start
        self.end = end
    }

    /// An empty range at `offset`: where a missing token would have been.
    public static func empty(at offset: Int) -> SourceRange {
        SourceRange(start: offset, end: offset)
    }

    public var isEmpty: Bool { start == end }
    public var length: Int { end - start }

    /// The smallest range that covers both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(start: min(start, other.start), end: max(end, other.end))
    }

    public func contains(_ offset: Int) -> Bool { offset >= start && offset < end }

    public var description: String { "\(start)..<\(end)" }
}

/// A 1-based line and column, computed from an offset only for display.
///
/// Columns count Unicode scalars from the start of the line (precisely: bytes that are
/// not UTF-8 continuation bytes), so a tab is one column, as editors report it.
public struct SourceLocation: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { "\(line):\(column)" }
}
