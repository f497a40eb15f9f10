import NSISource

/// Comma-separated lists inside brackets: list literals, arguments, subscripts.
extension Parser {
    /// Items up to `closer` (not consumed). A missing comma between two items on one
    /// line is reported and supplied; anything else ends the list for the caller's
    /// `expectClosing` to deal with.
    mutating func parseList<Item>(closer: TokenKind, _ parseItem: (inout Parser) -> Item) -> [Item] {
        var items: [Item] = []
        while kind != closer, kind != .endOfFile {
            let before = index
            items.append(parseItem(&self))
            if eat(.comma) != nil { continue }
            // An item that consumed nothing cannot be retried (no progress): stop.
            if index == before { break }
            if kind == closer { break }
            let startsItem = kind.canStartExpression || kind == .colon
            var startsStatement = false
            if case .keyword(let keyword) = kind { startsStatement = keyword.startsStatement }
            guard startsItem, !startsStatement, !newlineBeforeCurrent else { break }
            reportExpected("`,` or `\(closer.spelling!)`")
        }
        return items
    }

    /// `value` or `name = value`.
    mutating func parseArgument() -> CallArgument {
        if kind == .identifier, peekKind(1) == .assign {
            let labelToken = advance()
            advance()
            let value = parseExpr()
            let label = Identifier(name: text(labelToken), range: labelToken.range)
            return CallArgument(label: label, value: value, range: span(labelToken.range, value.range))
        }
        let value = parseExpr()
        return CallArgument(label: nil, value: value, range: value.range)
    }

    /// `i`, `...`, or a slice `lower:upper:step` with every part optional.
    mutating func parseIndex() -> SubscriptIndex {
        if kind == .ellipsis, [.comma, .rightBracket].contains(peekKind(1)) {
            return .ellipsis(advance().range)
        }
        let start = current.range.start
        var lower: Expr?
        if kind != .colon { lower = parseExpr() }
        guard let firstColon = eat(.colon) else { return .expr(lower!) }
        var slice = SliceExpr(lower: lower, upper: nil, step: nil, range: span(lower?.range ?? firstColon.range, firstColon.range))
        if !endsSlicePart { slice.upper = parseExpr() }
        if eat(.colon) != nil, !endsSlicePart {
            slice.step = parseExpr()
        }
        slice.range = SourceRange(start: min(start, slice.range.start), end: previousEnd)
        return .slice(slice)
    }

    private var endsSlicePart: Bool {
        [.colon, .comma, .rightBracket].contains(kind)
    }

    /// Positional arguments come first; no keyword twice.
    mutating func checkCallArguments(_ arguments: [CallArgument]) {
        var sawKeyword = false
        for argument in arguments {
            if argument.label != nil {
                sawKeyword = true
            } else if sawKeyword {
                report(.positionalAfterKeyword, at: argument.range, kind: .rule)
            }
        }
        checkDuplicateLabels(arguments)
    }

    /// Every generate option has a name; no name twice.
    mutating func checkOptions(_ options: [CallArgument]) {
        for option in options where option.label == nil {
            report(.positionalOption, at: option.range, kind: .rule)
        }
        checkDuplicateLabels(options)
    }

    private mutating func checkDuplicateLabels(_ arguments: [CallArgument]) {
        var first: [String: SourceRange] = [:]
        for label in arguments.compactMap(\.label) {
            if let earlier = first[label.name] {
                report(.duplicateKeyword(label.name), at: label.range,
                       secondary: [Label(earlier, SyntaxLabel.firstUse)], kind: .rule)
            } else {
                first[label.name] = label.range
            }
        }
    }
}
