import NSISource

/// A tree of printable lines: the AST dump is built as one and then rendered, so the
/// layout lives in one place.
final class DumpNode {
    let head: String
    let range: SourceRange?
    let children: [(label: String?, node: DumpNode)]

    init(_ head: String, _ range: SourceRange?, _ children: [(label: String?, node: DumpNode)] = []) {
        self.head = head
        self.range = range
        self.children = children
    }

    func render(in file: SourceFile, includeRanges: Bool, indent: Int = 0, label: String? = nil, into out: inout String) {
        out += String(repeating: "  ", count: indent)
        if let label { out += label + ": " }
        out += head
        if includeRanges, let range {
            out += " @" + file.location(of: range.start).description + "-" + file.location(of: range.end).description
        }
        out += "\n"
        for child in children {
            child.node.render(in: file, includeRanges: includeRanges, indent: indent + 1, label: child.label, into: &out)
        }
    }
}
