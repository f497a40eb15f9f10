/// A tensor written as nested lists of numbers (`[[1, 2, 3]]`, `[0.5, -1e-3]`), as
/// `--param name=value` and the embedding APIs give tensor params: its shape and its
/// elements in row-major order. Rows must agree in length; nil for anything else.
public func parseTensorText(_ text: String) -> (shape: [Int], values: [Double])? {
    var scalars = Array(text.unicodeScalars)[...]
    func skipSpace() { while let c = scalars.first, c == " " || c == "\n" || c == "\t" || c == "\r" { scalars.removeFirst() } }
    func value() -> (shape: [Int], values: [Double])? {
        skipSpace()
        guard let c = scalars.first else { return nil }
        if c == "[" {
            scalars.removeFirst()
            var items: [(shape: [Int], values: [Double])] = []
            skipSpace()
            if scalars.first == "]" { scalars.removeFirst(); return ([0], []) }
            while true {
                guard let item = value() else { return nil }
                if let first = items.first, first.shape != item.shape { return nil }
                items.append(item)
                skipSpace()
                guard let next = scalars.first else { return nil }
                scalars.removeFirst()
                if next == "]" { break }
                guard next == "," else { return nil }
            }
            return ([items.count] + items[0].shape, items.flatMap(\.values))
        }
        var number = ""
        while let d = scalars.first, "0123456789+-.eE".unicodeScalars.contains(d) { number.unicodeScalars.append(d); scalars.removeFirst() }
        guard let x = Double(number), x.isFinite else { return nil }
        return ([], [x])
    }
    guard let v = value() else { return nil }
    skipSpace()
    return scalars.isEmpty ? v : nil
}
