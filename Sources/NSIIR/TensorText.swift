/// A tensor written as nested lists of numbers (`[[1, 2, 3]]`, `[0.5, -1e-3]`), as
/// `--param name=value` and the embedding APIs give tensor params: its shape and its
/// elements in row-major order. Rows must agree in length; nil for anything else.
///
/// It reads the text in one pass with a counter per open list and never recurses, so no
/// nesting (a hostile param nested 100,000 deep, say) can exhaust the stack.
public func parseTensorText(_ text: String) -> (shape: [Int], values: [Double])? {
    let scalars = Array(text.unicodeScalars)
    var i = 0
    func skipSpace() {
        while i < scalars.count {
            switch scalars[i] { case " ", "\n", "\t", "\r": i += 1; default: return }
        }
    }
    var values: [Double] = []
    // The items of each open list so far, innermost last; the item count every list at a
    // depth must have (set by the first list at that depth to close).
    var open: [Int] = []
    var sizes: [Int?] = []
    // The depth at which numbers stand (all stand at one) and the deepest list opened:
    // a list may not stand where numbers do, nor a number where lists do.
    var leafDepth: Int? = nil
    var deepestList = -1
    var expectItem = true  // after `[`, `,` and at the start; else `,`, `]` or the end
    var done = false       // the whole value has been read
    func itemEnded() {
        if open.isEmpty { done = true } else { open[open.count - 1] += 1 }
        expectItem = false
    }
    while true {
        skipSpace()
        guard i < scalars.count else { break }
        if done { return nil }
        let c = scalars[i]
        if expectItem {
            if c == "[" {
                let depth = open.count
                if let leaf = leafDepth, depth >= leaf { return nil }
                deepestList = max(deepestList, depth)
                open.append(0)
                i += 1
                skipSpace()
                // `[]`: no item; its `]` is read next.
                if i < scalars.count, scalars[i] == "]" { expectItem = false }
                continue
            }
            let depth = open.count
            if depth <= deepestList { return nil }
            if let leaf = leafDepth, leaf != depth { return nil }
            leafDepth = depth
            let start = i
            while i < scalars.count, "0123456789+-.eE".unicodeScalars.contains(scalars[i]) { i += 1 }
            var number = ""
            number.unicodeScalars.append(contentsOf: scalars[start..<i])
            guard let x = Double(number), x.isFinite else { return nil }
            values.append(x)
            itemEnded()
            continue
        }
        guard let count = open.last else { return nil }
        i += 1
        if c == "," { expectItem = true; continue }
        guard c == "]" else { return nil }
        let depth = open.count - 1
        open.removeLast()
        if sizes.count <= depth { sizes += [Int?](repeating: nil, count: depth + 1 - sizes.count) }
        if let size = sizes[depth] {
            guard size == count else { return nil }
        } else {
            sizes[depth] = count
        }
        itemEnded()
    }
    guard done else { return nil }
    let shape = sizes.compactMap { $0 }
    guard shape.count == sizes.count else { return nil }
    if let leaf = leafDepth {
        guard shape.count == leaf else { return nil }
    } else {
        // Lists of lists that end in empty ones (`[]`, `[[], []]`).
        guard shape.count == deepestList + 1, shape.last == 0 else { return nil }
    }
    var elements = 1
    for n in shape {
        let (product, overflow) = elements.multipliedReportingOverflow(by: n)
        guard !overflow else { return nil }
        elements = product
    }
    guard elements == values.count else { return nil }
    return (shape, values)
}
