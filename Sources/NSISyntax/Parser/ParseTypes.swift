import NSISource

extension Parser {
    /// `int`, `float`, `bool`, `str`, or `tensor`/`f32`/`i32`/`i64` with `[dimensions]`
    /// (possibly none: `f32[]` is a 0-d tensor).
    mutating func parseType() -> TypeExpr {
        let name = parseName()
        var dimensions: [Expr]?
        var bracketRange: SourceRange?
        if let open = eat(.leftBracket) {
            dimensions = inBrackets { parser in
                let items = parser.parseList(closer: .rightBracket) { $0.parseExpr() }
                parser.expectClosing(.rightBracket, opener: open)
                return items
            }
            bracketRange = SourceRange(start: open.range.start, end: previousEnd)
        }
        let typeName = TypeName(rawValue: name.name)
        let range = span(name.range, bracketRange ?? name.range)
        if !name.name.isEmpty {
            switch typeName {
            case nil:
                report(.unknownType(name.name, suggestion: TypeName.suggestion(for: name.name)), at: name.range, kind: .rule)
            case let known? where known.isScalar && bracketRange != nil:
                report(.scalarTypeWithDimensions(name.name), at: bracketRange!, kind: .rule)
            case let known? where !known.isScalar && bracketRange == nil:
                report(.tensorTypeWithoutDimensions(name.name), at: name.range, kind: .rule)
            default:
                break
            }
        }
        return TypeExpr(name: name, typeName: typeName, dimensions: dimensions, range: range)
    }
}

extension TypeName {
    /// The type a mistyped name most likely meant: a common spelling from another
    /// language, or a name at most two edits away.
    static func suggestion(for name: String) -> String? {
        let aliases = ["string": "str", "integer": "int", "boolean": "bool", "double": "float",
                       "float32": "f32", "int32": "i32", "int64": "i64", "long": "i64", "Tensor": "tensor"]
        if let alias = aliases[name] { return alias }
        let candidates = allCases.map(\.rawValue).map { ($0, editDistance(name.lowercased(), $0)) }
        guard let best = candidates.min(by: { $0.1 < $1.1 }), best.1 <= 2, best.1 < name.count else { return nil }
        return best.0
    }
}

/// Levenshtein distance, for suggestions; names are short.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var row = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = row
    }
    return previous[b.count]
}
