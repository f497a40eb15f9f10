/// One source line as it is displayed: tabs expanded, each scalar one column (an invalid
/// UTF-8 byte shows as U+FFFD), with the display column of every byte offset.
struct LineView {
    let text: [Unicode.Scalar]
    /// columns[i] is the display column where byte i of the line starts; one entry more
    /// than the line has bytes, for the end.
    let columns: [Int]
    let startOffset: Int

    init(line: Int, in file: SourceFile, tabWidth: Int) {
        let content = file.lineContent(line)
        startOffset = content.lowerBound
        var text: [Unicode.Scalar] = []
        var columns: [Int] = []
        columns.reserveCapacity(content.count + 1)
        var i = content.lowerBound
        while i < content.upperBound {
            var j = i + 1
            while j < content.upperBound, file.bytes[j] & 0xC0 == 0x80 { j += 1 }
            let scalar: Unicode.Scalar
            if j == i + 1 {
                scalar = file.bytes[i] < 0x80 ? Unicode.Scalar(file.bytes[i]) : "\u{FFFD}"
            } else {
                let decoded = String(decoding: file.bytes[i..<j], as: UTF8.self).unicodeScalars
                scalar = decoded.count == 1 ? decoded.first! : "\u{FFFD}"
            }
            for _ in i..<j { columns.append(text.count) }
            if scalar == "\t" {
                text += Array(repeating: " ", count: tabWidth)
            } else {
                text.append(scalar)
            }
            i = j
        }
        columns.append(text.count)
        self.text = text
        self.columns = columns
    }

    var width: Int { text.count }

    /// The display column of a source offset; past the end of the line is one past it
    /// (where a missing token at the end of the line is shown).
    func column(of offset: Int) -> Int {
        let index = offset - startOffset
        if index < 0 { return 0 }
        if index >= columns.count { return width + 1 }
        return columns[index]
    }

    /// The text between two display columns, as a String.
    func slice(_ range: Range<Int>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: text[max(0, range.lowerBound)..<min(width, range.upperBound)])
        return String(out)
    }
}
