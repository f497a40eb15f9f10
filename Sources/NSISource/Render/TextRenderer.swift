/// Renders diagnostics for people, in the style of rustc:
///
///     error[E0102]: expected an expression, found `)`
///      --> probe.nsi:3:18
///       |
///     3 |     let x = (1 + )
///       |                  ^ expected an expression
///       = help: ...
///
/// Color is a parameter, never a guess: the command line turns it on for terminals.
public struct TextRenderer: Sendable {
    public var useColor: Bool
    /// Tabs are shown as this many spaces so that underlines line up.
    public var tabWidth = 4
    /// Lines wider than this are shown as a window around their underlines.
    public var maxLineWidth = 200
    private let windowMargin = 40

    public init(useColor: Bool = false) {
        self.useColor = useColor
    }

    /// Every diagnostic, each followed by a blank line.
    public func render(_ diagnostics: [Diagnostic], in file: SourceFile) -> String {
        // Lines are laid out once however many diagnostics point into them.
        var views: [Int: LineView] = [:]
        return diagnostics.map { render($0, in: file, views: &views) + "\n" }.joined()
    }

    /// What `nsi check` prints: every diagnostic, then `2 errors and 1 warning in probe.nsi`.
    public func report(_ diagnostics: [Diagnostic], in file: SourceFile) -> String {
        guard !diagnostics.isEmpty else { return "" }
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        let parts = [errors > 0 ? count(errors, "error") : nil, warnings > 0 ? count(warnings, "warning") : nil].compactMap { $0 }
        return render(diagnostics, in: file) + parts.joined(separator: " and ") + " in \(file.path)\n"
    }

    public func render(_ diagnostic: Diagnostic, in file: SourceFile) -> String {
        var views: [Int: LineView] = [:]
        return render(diagnostic, in: file, views: &views)
    }

    private func render(_ diagnostic: Diagnostic, in file: SourceFile, views: inout [Int: LineView]) -> String {
        let painter = Painter(useColor: useColor)
        let isError = diagnostic.severity == .error
        let primaryStyle: Style = isError ? .primaryError : .primaryWarning
        var out = painter.paint("\(diagnostic.severity.rawValue)[\(diagnostic.code)]", isError ? .errorHeader : .warningHeader)
        out += painter.paint(": " + diagnostic.message, .message) + "\n"

        let lines = annotatedLines(diagnostic, in: file, views: &views)
        let gutterWidth = String(lines.keys.max() ?? 1).count
        let pad = String(repeating: " ", count: gutterWidth)
        let location = file.location(of: diagnostic.primary.range.start)
        out += pad + painter.paint("-->", .gutter) + " \(file.path):\(location.line):\(location.column)\n"
        out += pad + " " + painter.paint("|", .gutter) + "\n"

        var previous: Int?
        for line in lines.keys.sorted() {
            if let previous, line > previous + 1 { out += painter.paint("...", .gutter) + "\n" }
            previous = line
            let (text, annotated) = window(lines[line]!, view: views[line]!)
            let number = String(line).leftPadded(to: gutterWidth)
            out += painter.paint(number + " |", .gutter) + (text.isEmpty ? "" : " " + text) + "\n"
            for row in annotated.rows(primaryStyle: primaryStyle) {
                out += pad + " " + painter.paint("|", .gutter) + " " + paint(row, painter) + "\n"
            }
        }
        for note in diagnostic.notes {
            out += pad + " " + painter.paint("= note:", .noteHeader) + " " + note + "\n"
        }
        if let help = diagnostic.help {
            out += pad + " " + painter.paint("= help:", .noteHeader) + " " + help + "\n"
        }
        return out.trimmingTrailingSpacesPerLine()
    }

    /// The annotations of the diagnostic grouped by the line they start on; a view of
    /// each of those lines is added to `views`.
    private func annotatedLines(_ diagnostic: Diagnostic, in file: SourceFile, views: inout [Int: LineView]) -> [Int: AnnotatedLine] {
        var lines: [Int: AnnotatedLine] = [:]
        let labels = [(diagnostic.primary, true)] + diagnostic.secondary.map { ($0, false) }
        for (label, isPrimary) in labels {
            let line = file.line(of: label.range.start)
            if views[line] == nil { views[line] = LineView(line: line, in: file, tabWidth: tabWidth) }
            let view = views[line]!
            let start = view.column(of: label.range.start)
            // A range running onto later lines is underlined to the end of its first line.
            let endOffset = min(label.range.end, file.lineContent(line).upperBound)
            let end = max(start + 1, view.column(of: endOffset))
            let annotation = Annotation(startColumn: start, endColumn: end, label: label.message, isPrimary: isPrimary)
            lines[line, default: AnnotatedLine(annotations: [])].annotations.append(annotation)
        }
        return lines
    }

    /// A long line is shown as a window around its underlines, with `...` where it is cut.
    private func window(_ annotated: AnnotatedLine, view: LineView) -> (String, AnnotatedLine) {
        guard view.width > maxLineWidth else { return (view.slice(0..<view.width), annotated) }
        let first = annotated.annotations.map(\.startColumn).min() ?? 0
        let last = annotated.annotations.map(\.endColumn).max() ?? 0
        let low = max(0, first - windowMargin)
        let high = min(view.width, max(last + windowMargin, low + maxLineWidth))
        let prefix = low > 0 ? "..." : ""
        let text = prefix + view.slice(low..<high) + (high < view.width ? "..." : "")
        var shifted = annotated
        for index in shifted.annotations.indices {
            shifted.annotations[index].startColumn += prefix.count - low
            shifted.annotations[index].endColumn += prefix.count - low
        }
        return (text, shifted)
    }

    private func paint(_ cells: [Cell], _ painter: Painter) -> String {
        var out = ""
        var run = ""
        var runStyle: Style?
        for cell in cells {
            if cell.style != runStyle {
                out += painter.paint(run, runStyle)
                run = ""
                runStyle = cell.style
            }
            run.append(cell.character)
        }
        return out + painter.paint(run, runStyle)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }

    func trimmingTrailingSpacesPerLine() -> String {
        split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> Substring in
                var line = line
                while line.last == " " { line.removeLast() }
                return line
            }
            .joined(separator: "\n")
    }
}
