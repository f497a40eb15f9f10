import NSIIR
import NSISource

extension CheckContext {
    /// `einsum(equation, a[, b])`, the subset of `torch.einsum` that lowers to sums,
    /// transposes and one matrix product: one or two f32 operands; one letter per
    /// dimension, no letter twice in one operand, no `...`; an output (after `->`, or
    /// else the letters used once, in alphabetical order) of letters of the inputs, each
    /// once. A letter's sizes must agree; several summed letters of a product need sizes
    /// known when compiling.
    func einsum(_ equation: String, _ operands: [(ValueRef, SourceRange)], _ eqRange: SourceRange, _ whole: SourceRange) -> ValueRef? {
        func fail(_ expected: String, _ got: String) -> ValueRef? {
            report(.argumentValue("the equation of `einsum`", expected: expected, got: got), at: eqRange)
            return nil
        }
        let parts = equation.replacingOccurrences(of: " ", with: "").components(separatedBy: "->")
        guard parts.count <= 2 else { return fail("`inputs->output`", "\"\(equation)\"") }
        let inputs = parts[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        guard inputs.count == operands.count else {
            return fail("one subscript per operand (\(operands.count))", "\(inputs.count) in \"\(equation)\"")
        }
        let letters = inputs.flatMap { $0 }
        if let bad = (letters + Array(parts.count == 2 ? parts[1] : "")).first(where: { !($0.isASCII && $0.isLetter) }) {
            return fail("letters, commas and `->` (no `...`)", "`\(bad)`")
        }
        let output: [Character]
        if parts.count == 2 { output = Array(parts[1]) } else {
            output = Set(letters).filter { l in letters.filter { $0 == l }.count == 1 }.sorted()
        }
        if let twice = output.first(where: { l in output.filter { $0 == l }.count > 1 }) { return fail("each output letter once", "`\(twice)` twice") }
        if let unknown = output.first(where: { !letters.contains($0) }) { return fail("output letters that the inputs use", "`\(unknown)`") }
        // Each operand: an f32 tensor with one distinct letter per dimension.
        var sizes: [Character: ShapeDim] = [:]
        var values: [ValueRef] = []
        for (k, (v, r)) in operands.enumerated() {
            guard case .tensor(.f32, let shape) = v.type else {
                report(.argumentType("an operand of `einsum`", expected: "an f32 tensor", got: v.type), at: r)
                return nil
            }
            guard shape.count == inputs[k].count else {
                return fail("\(shape.count) letters for operand \(k + 1) (\(v.type))", "\"\(String(inputs[k]))\"")
            }
            if let twice = inputs[k].first(where: { l in inputs[k].filter { $0 == l }.count > 1 }) {
                return fail("distinct letters in one operand (diagonals are `diagonal()`)", "`\(twice)` twice in \"\(String(inputs[k]))\"")
            }
            for (l, d) in zip(inputs[k], shape) {
                if let seen = sizes[l], let a = seen.value, let b = d.value, a != b {
                    report(.broadcast(operands[0].0.type, v.type, axis: "`\(l)` is \(a) in one operand and \(b) in another"), at: r)
                    return nil
                }
                if sizes[l]?.value == nil { sizes[l] = d }
            }
            values.append(tensorValue(v))
        }
        // Letters an operand alone has and the output does not: summed first.
        var current: [(ValueRef, [Character])] = []
        for (k, v) in values.enumerated() {
            var x = v, ls = inputs[k]
            for (d, l) in ls.enumerated().reversed() where !output.contains(l) && !inputs.enumerated().contains(where: { $0.offset != k && $0.element.contains(l) }) {
                ls.remove(at: d)
                x = emit(.reduce(.sum, operandID(x), dim: d, keepdim: false), type: .tensor(.f32, ls.map { sizes[$0]! }), operands: [x], range: whole)
            }
            current.append((x, ls))
        }
        var (result, order) = current[0]
        if current.count == 2 {
            let (a, la) = current[0], (b, lb) = current[1]
            let batch = la.filter { lb.contains($0) && output.contains($0) }
            let contract = la.filter { lb.contains($0) && !output.contains($0) }
            let aFree = la.filter { !lb.contains($0) }, bFree = lb.filter { !la.contains($0) }
            // X [batch, a1..a(p-1), 1.., ap, K] @ Y [batch, 1.., b1..b(q-1), K, bq]: the product broadcasts the free letters.
            let aLead = Array(aFree.dropLast()), bLead = Array(bFree.dropLast())
            guard let x = arrange(a, la, batch + aLead, bLead.count, aFree.last, contract, sizes, whole, left: true),
                  let y = arrange(b, lb, batch + Array(repeating: "1", count: aLead.count) + bLead, 0, bFree.last, contract, sizes, whole, left: false)
            else { return nil }
            var resultLetters: [Character] = batch + aLead + bLead
            var shape = resultLetters.map { sizes[$0]! }
            shape += [aFree.last.map { sizes[$0]! } ?? .known(1), bFree.last.map { sizes[$0]! } ?? .known(1)]
            result = emit(.binary(.matmul, operandID(x), operandID(y)), type: .tensor(.f32, shape), operands: [x, y], range: whole)
            // Drop the unit M or N of a side with no free letter.
            if bFree.isEmpty {
                shape.removeLast()
                result = emit(.squeeze(operandID(result), shape.count), type: .tensor(.f32, shape), operands: [result], range: whole)
            } else { resultLetters.append(contentsOf: aFree.isEmpty ? [] : [aFree.last!]) }
            if aFree.isEmpty {
                let d = shape.count - (bFree.isEmpty ? 1 : 2)
                shape.remove(at: d)
                result = emit(.squeeze(operandID(result), d), type: .tensor(.f32, shape), operands: [result], range: whole)
            } else if bFree.isEmpty { resultLetters.append(aFree.last!) }
            if let last = bFree.last { resultLetters.append(last) }
            order = resultLetters
        } else {
            // One operand: its remaining letters are the output's (repeated letters were refused).
            order = current[0].1
        }
        return permute(result, order, output, sizes, whole)
    }

    /// An operand of the product laid out as `lead` (a "1" is a unit dimension), `units`
    /// more unit dimensions, then the free letter (or a unit) and the summed letters merged
    /// into one, on the right for X and on the left for Y.
    private func arrange(_ v: ValueRef, _ letters: [Character], _ lead: [Character], _ units: Int, _ free: Character?,
                         _ contract: [Character], _ sizes: [Character: ShapeDim], _ whole: SourceRange, left: Bool) -> ValueRef? {
        let own = lead.filter { $0 != "1" } + (free.map { [$0] } ?? []) + contract
        var x = permute(v, letters, left ? own : lead.filter { $0 != "1" } + contract + (free.map { [$0] } ?? []), sizes, whole)
        var shape = x.type.shape!
        // The summed letters as one dimension K (a unit when there are none).
        let kAt = left ? shape.count - contract.count : shape.count - contract.count - (free == nil ? 0 : 1)
        if contract.count != 1 {
            let sized = contract.map { sizes[$0]!.value }
            let k: ShapeDim = sized.contains(nil) ? .symbol("K") : .known(sized.map { $0! }.reduce(1, *))
            var merged = shape
            merged.replaceSubrange(kAt..<(kAt + contract.count), with: [k])
            if merged.filter({ $0.value == nil }).count > 1 {
                report(.argumentValue("`einsum`", expected: "sizes known when compiling for a product over several letters", got: "\(ValueType.tensor(.f32, shape))"), at: whole)
                return nil
            }
            x = emit(.reshape(operandID(x), merged), type: .tensor(.f32, merged), operands: [x], range: whole)
            shape = merged
        }
        // The unit M (X without a free letter) or N (Y without one).
        if free == nil {
            let d = left ? shape.count - 1 : shape.count
            shape.insert(.known(1), at: d)
            x = emit(.unsqueeze(operandID(x), d), type: .tensor(.f32, shape), operands: [x], range: whole)
        }
        // Unit dimensions where the other operand has its free letters.
        var at = 0
        for l in lead {
            if l == "1" {
                shape.insert(.known(1), at: at)
                x = emit(.unsqueeze(operandID(x), at), type: .tensor(.f32, shape), operands: [x], range: whole)
            }
            at += 1
        }
        for _ in 0..<units {
            shape.insert(.known(1), at: at)
            x = emit(.unsqueeze(operandID(x), at), type: .tensor(.f32, shape), operands: [x], range: whole)
            at += 1
        }
        return x
    }

    /// The value with its dimensions (named by `from`) reordered to `to`, by transposes.
    private func permute(_ v: ValueRef, _ from: [Character], _ to: [Character], _ sizes: [Character: ShapeDim], _ whole: SourceRange) -> ValueRef {
        var x = v, order = from
        for (i, l) in to.enumerated() {
            guard let j = order.firstIndex(of: l), j != i else { continue }
            order.swapAt(i, j)
            x = emit(.transpose(operandID(x), i, j), type: .tensor(.f32, order.map { sizes[$0]! }), operands: [x], range: whole)
        }
        return x
    }
}
