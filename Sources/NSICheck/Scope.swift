import NSIIR
import NSISource

/// A checked value: its SSA id (nil for compile-time values that need no instruction),
/// type, compile-time value when known, and when it becomes available.
struct ValueRef {
    var id: ValueID?
    var type: ValueType
    var constant: ConstValue?
    var anchor: Anchor
    var range: SourceRange
    /// The access point it was read from, for causality notes.
    var sourcePoint: Int?
    /// The elements of a list of tensors (`cat([a, b], 0)`).
    var items: [ValueRef]? = nil
}

/// What a name denotes.
enum Symbol {
    case value(ValueRef)
    /// `let c[l] = ...`: elements by index tuple.
    case indexed([[Int]: ValueRef], range: SourceRange)
    case param(ParamInfo, ValueRef)
    /// A name whose definition had an error already reported: uses stay quiet.
    case poisoned
}

/// A `{ }` scope. Block and invoke bodies export their top-level names to the scope
/// around them; a loop body is fresh per iteration.
final class Scope {
    enum Kind { case script, block, invoke, loopBody, plain }
    let kind: Kind
    var symbols: [String: (Symbol, SourceRange)] = [:]
    var order: [String] = []
    /// The steps and runtime condition its statements run under: a `let` defined under
    /// other ones cannot be edited here (its value after the body would depend on the run).
    let steps: StepSet
    let guardValue: ValueID?

    init(kind: Kind, steps: StepSet = .prompt, guardValue: ValueID? = nil) {
        self.kind = kind
        self.steps = steps
        self.guardValue = guardValue
    }

    var exports: Bool { kind == .block || kind == .invoke }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}

/// The closest candidate within a distance that scales with the name's length.
func suggestion(for name: String, among candidates: [String]) -> String? {
    let limit = max(1, name.count / 3)
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(name, c)
        if d <= limit && (best == nil || d < best!.1) { best = (c, d) }
    }
    return best?.0
}

/// A dotted model name as a script writes it: `layers.8.attn.q` -> `model.layers[8].attn.q`.
func displayName(_ dotted: String) -> String {
    var out = "model"
    for part in dotted.split(separator: ".") {
        if Int(part) != nil { out += "[\(part)]" } else { out += ".\(part)" }
    }
    return out
}
