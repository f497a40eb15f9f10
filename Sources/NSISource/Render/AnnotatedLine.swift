/// One underline (with its optional label) on one source line, in display columns.
struct Annotation {
    var startColumn: Int   // 0-based display column
    var endColumn: Int     // exclusive; always > startColumn
    var label: String
    var isPrimary: Bool
}

/// Lays out the rows under one source line, in the style of rustc:
///
///     model.layers[8].output[:, -1] = clean[:, -1, :10]
///     -----------------------------   ^^^^^^^^^^^^^^^^^ f32[1, 10]
///     |
///     f32[1, 576]
///
/// The rightmost labelled underline keeps its label on the underline row; every other
/// label hangs below its underline on a `|`, the leftmost lowest, so that no two
/// labels cross.
struct AnnotatedLine {
    var annotations: [Annotation]

    /// Each row is a list of cells: a character and the style it is painted in.
    func rows(primaryStyle: Style) -> [[Cell]] {
        let sorted = annotations.sorted { ($0.startColumn, $0.isPrimary ? 1 : 0) < ($1.startColumn, $1.isPrimary ? 1 : 0) }
        var underline = Row()
        // Secondary first so a primary underline wins where they overlap.
        for annotation in sorted.sorted(by: { !$0.isPrimary && $1.isPrimary }) {
            let character: Character = annotation.isPrimary ? "^" : "-"
            let style = annotation.isPrimary ? primaryStyle : .secondary
            for column in annotation.startColumn..<annotation.endColumn {
                underline.put(character, at: column, style)
            }
        }

        let labelled = sorted.filter { !$0.label.isEmpty }
        var hanging = labelled
        let maxEnd = sorted.map(\.endColumn).max() ?? 0
        if let rightmost = labelled.indices.max(by: { labelled[$0].startColumn < labelled[$1].startColumn }),
           labelled[rightmost].endColumn >= maxEnd {
            let annotation = labelled[rightmost]
            underline.put(annotation.label, at: annotation.endColumn + 1, annotation.isPrimary ? primaryStyle : .secondary)
            hanging.remove(at: rightmost)
        }

        var rows = [underline.cells]
        guard !hanging.isEmpty else { return rows }
        hanging.sort { $0.startColumn < $1.startColumn }
        let styleOf = { (a: Annotation) -> Style in a.isPrimary ? primaryStyle : .secondary }

        var connectors = Row()
        for annotation in hanging { connectors.put("|", at: annotation.startColumn, styleOf(annotation)) }
        rows.append(connectors.cells)
        for index in hanging.indices.reversed() {
            var row = Row()
            for left in hanging[..<index] { row.put("|", at: left.startColumn, styleOf(left)) }
            row.put(hanging[index].label, at: hanging[index].startColumn, styleOf(hanging[index]))
            rows.append(row.cells)
        }
        return rows
    }
}

struct Cell {
    var character: Character
    var style: Style?
}

/// A row of cells that grows as text is put into it.
struct Row {
    var cells: [Cell] = []

    var width: Int { cells.count }

    mutating func put(_ text: String, at column: Int, _ style: Style?) {
        var column = column
        for character in text {
            while cells.count <= column { cells.append(Cell(character: " ", style: nil)) }
            cells[column] = Cell(character: character, style: style)
            column += 1
        }
    }

    mutating func put(_ character: Character, at column: Int, _ style: Style?) {
        put(String(character), at: column, style)
    }
}
