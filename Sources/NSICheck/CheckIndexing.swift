import NSIIR
import NSISource
import NSISyntax
import NSITensor

extension CheckContext {
    /// `x[...]` on a tensor: positions remove a dimension, slices keep it, one integer
    /// tensor gathers, `...` stands for the dimensions not named.
    func checkIndexing(_ base: ValueRef, _ items: [SubscriptIndex], _ range: SourceRange) -> ValueRef? {
        // An int of a compile-time list of ints (`h.shape[1]`, `[3, 8, 12][0]`) stays a compile-time int.
        if case .list(let list)? = base.constant, items.count == 1, case .expr(let e) = items[0],
           let i = checkExpr(e)?.constant?.intValue, list.allSatisfy({ $0.intValue != nil }) {
            guard i >= -list.count && i < list.count else {
                report(.indexOutOfRange(i, dim: 0, size: list.count), at: e.range)
                return nil
            }
            return constant(list[i < 0 ? i + list.count : i], type: .int, range: range)
        }
        // One string of a list of strings (`result.text[0]`, a prompt list).
        if case .strings(let n) = base.type {
            guard items.count == 1, case .expr(let e) = items[0], let v = checkExpr(e) else {
                report(.tooManyIndices(items.count, rank: 1, type: base.type), at: range)
                return nil
            }
            guard v.type == .int else { report(.indexType(v.type), at: e.range); return nil }
            if let i = v.constant?.intValue, i < -n || i >= n {
                report(.indexOutOfRange(i, dim: 0, size: n), at: e.range)
                return nil
            }
            if case .list(let list)? = base.constant, let i = v.constant?.intValue {
                return constant(list[i < 0 ? i + n : i], type: .str, range: range)
            }
            let b = materialize(base), at = materialize(v)
            return emit(.index(operandID(b), [.at(operandID(at))]), type: .str, operands: [b, at], range: range)
        }
        guard let (index, type) = indexItems(base, items, range) else { return nil }
        let b = tensorValue(base)
        let operands = [b] + index.flatMap(\.operands).map { refFor($0) }
        return emit(.index(operandID(b), index), type: type, operands: operands, range: range)
    }

    /// A value reference for an instruction already emitted.
    func refFor(_ id: ValueID) -> ValueRef {
        let ins = instructions[id.index]
        return ValueRef(id: id, type: ins.type ?? .int, constant: nil, anchor: ins.anchor, range: SourceRange(start: ins.range.start, end: ins.range.end), sourcePoint: nil)
    }

    func indexItems(_ base: ValueRef, _ items: [SubscriptIndex], _ range: SourceRange) -> ([IndexItem], ValueType)? {
        guard case .tensor(let dtype, let shape) = base.type else {
            report(.notATensor("indexing", base.type), at: range)
            return nil
        }
        // Expressions first: a boolean mask indexes as many dimensions as it has.
        var values: [ValueRef?] = []
        for item in items {
            guard case .expr(let e) = item else { values.append(nil); continue }
            guard let v = checkExpr(e) else { return nil }
            values.append(v)
        }
        func width(_ k: Int) -> Int {
            if case .tensor(.bool, let s)? = values[k]?.type { return max(s.count, 1) }
            return 1
        }
        let ellipses = items.filter { if case .ellipsis = $0 { return true }; return false }.count
        let named = items.indices.filter { if case .ellipsis = items[$0] { return false }; return true }.map(width).reduce(0, +)
        if ellipses > 1 || named > shape.count {
            report(.tooManyIndices(named, rank: shape.count, type: base.type), at: range)
            return nil
        }
        // One entry per dimension of the base: the item (and its value) that starts there, or
        // nil for a full slice; a mask's later dimensions are `.covered`.
        enum Slot { case full, item(SubscriptIndex, ValueRef?), covered }
        var expanded: [Slot] = []
        for (k, item) in items.enumerated() {
            if case .ellipsis = item { expanded += Array(repeating: .full, count: shape.count - named); continue }
            expanded.append(.item(item, values[k]))
            expanded += Array(repeating: .covered, count: width(k) - 1)
        }
        expanded += Array(repeating: .full, count: shape.count - expanded.count)
        var out: [IndexItem] = []
        var outShape: [ShapeDim] = []
        // Integer-tensor indices (and, beside them, integers) index together, as in NumPy
        // and PyTorch: their shapes broadcast to one, which takes the place of the first
        // when they are adjacent, and goes first otherwise.
        var gathers: [(shape: [ShapeDim], range: SourceRange)] = []
        var advanced: [Int] = []
        var firstAdvancedAt = 0
        for (d, slot) in expanded.enumerated() {
            let size = shape[d]
            let item: SubscriptIndex, checked: ValueRef?
            switch slot {
            case .full:
                out.append(.slice(nil, nil, nil))
                outShape.append(size)
                continue
            case .covered: continue
            case .item(let i, let v): (item, checked) = (i, v)
            }
            switch item {
            case .ellipsis: continue
            case .expr(let e):
                guard let v = checked else { return nil }
                if case .tensor(.bool, let s) = v.type {
                    // A mask: the positions where it is true, as one integer tensor per dimension it covers.
                    guard let columns = maskColumns(v, s, Array(shape[d..<(d + max(s.count, 1))]), d, e.range) else { return nil }
                    for c in columns { out.append(.gather(operandID(c))) }
                    if advanced.isEmpty { firstAdvancedAt = outShape.count }
                    advanced += Array(d..<(d + columns.count))
                    gathers.append((columns[0].type.shape!, e.range))
                } else if v.type == .int {
                    if let i = v.constant?.intValue, let n = size.value, i < -n || i >= n {
                        report(.indexOutOfRange(i, dim: d, size: n), at: e.range)
                        return nil
                    }
                    out.append(.at(operandID(materialize(v))))
                    if advanced.isEmpty { firstAdvancedAt = outShape.count }
                    advanced.append(d)
                } else if case .tensor(let t, let s) = v.type, t == .i32 || t == .i64 {
                    if let values = v.constant.flatMap(literalShape)?.1, let n = size.value,
                       let bad = values.first(where: { Int($0) < -n || Int($0) >= n }) {
                        report(.indexOutOfRange(Int(bad), dim: d, size: n), at: e.range)
                        return nil
                    }
                    out.append(.gather(operandID(tensorValue(v))))
                    if advanced.isEmpty { firstAdvancedAt = outShape.count }
                    advanced.append(d)
                    gathers.append((s, e.range))
                } else {
                    report(.indexType(v.type), at: e.range)
                    return nil
                }
            case .slice(let s):
                var parts: [ValueRef?] = []
                for part in [s.lower, s.upper, s.step] {
                    guard let part else { parts.append(nil); continue }
                    guard let v = checkExpr(part) else { return nil }
                    guard v.type == .int else { report(.indexType(v.type), at: part.range); return nil }
                    if part == s.step, let st = v.constant?.intValue, st <= 0 {
                        report(.indexType(v.type), at: part.range, notes: ["a slice step must be positive"])
                        return nil
                    }
                    parts.append(v)
                }
                outShape.append(sliceLength(size, parts[0]?.constant?.intValue, parts[1]?.constant?.intValue, parts[2]?.constant?.intValue,
                                            dynamic: parts.contains { $0 != nil && $0!.constant == nil }))
                out.append(.slice(parts[0].map { operandID(materialize($0)) }, parts[1].map { operandID(materialize($0)) }, parts[2].map { operandID(materialize($0)) }))
            }
        }
        if !gathers.isEmpty {
            var together: [ShapeDim] = []
            for g in gathers {
                let (combined, bad) = broadcastShapes(together, g.shape)
                guard let combined else {
                    report(.broadcast(.tensor(.i64, together), .tensor(.i64, g.shape), axis: "integer-tensor indices of one subscript broadcast together"
                                        + (bad.map { " (dimension \($0))" } ?? "")), at: g.range)
                    return nil
                }
                together = combined
            }
            let adjacent = advanced.last! - advanced.first! == advanced.count - 1
            let at = adjacent ? firstAdvancedAt : 0
            outShape.insert(contentsOf: together, at: at)
        }
        return (out, .tensor(dtype, outShape))
    }

    /// `x[mask]`: the mask's shape must be the dimensions it covers; the positions where it
    /// is true (`nonzero`, i64[N, rank], N known when the plan runs) split into one
    /// integer index per dimension.
    func maskColumns(_ mask: ValueRef, _ maskShape: [ShapeDim], _ covered: [ShapeDim], _ dim: Int, _ range: SourceRange) -> [ValueRef]? {
        guard !maskShape.isEmpty else {
            report(.indexType(mask.type), at: range, notes: ["a boolean mask has at least one dimension"])
            return nil
        }
        guard maskShape.count == covered.count, zip(maskShape, covered).allSatisfy({ $0 == $1 || $0.value == nil || $1.value == nil }) else {
            report(.indexType(mask.type), at: range, notes: ["a boolean mask has the shape of the dimensions it indexes: here \(ValueType.tensor(.bool, covered)) from dimension \(dim)"])
            return nil
        }
        let m = tensorValue(mask)
        let count = ShapeDim.symbol("N\(operandID(m).index)")
        let positions = emit(.nonzero(operandID(m)), type: .tensor(.i64, [count, .known(maskShape.count)]), operands: [m], range: range)
        return (0..<maskShape.count).map { j in
            let at = materialize(constant(.int(j), type: .int, range: range))
            return emit(.index(operandID(positions), [.slice(nil, nil, nil), .at(operandID(at))]), type: .tensor(.i64, [count]), operands: [positions, at], range: range)
        }
    }

    /// Python's slice length when the size and bounds are known; a symbol otherwise.
    func sliceLength(_ size: ShapeDim, _ lo: Int?, _ hi: Int?, _ step: Int?, dynamic: Bool) -> ShapeDim {
        if !dynamic && lo == nil && hi == nil && (step ?? 1) == 1 { return size }
        // A length known only when running (a run-time prompt's T), sliced by bounds from
        // the start (`1:4`): the bounds' length, which the VM checks when the plan runs.
        if !dynamic, size.value == nil, let hi, hi >= 0, (lo ?? 0) >= 0, hi >= (lo ?? 0) {
            let st = step ?? 1
            return .known((hi - (lo ?? 0) + st - 1) / st)
        }
        guard !dynamic, let n = size.value else {
            return .symbol("\(size)[\(lo.map(String.init) ?? ""):\(hi.map(String.init) ?? "")\(step.map { ":\($0)" } ?? "")]")
        }
        func clamp(_ v: Int?, _ fallback: Int) -> Int {
            guard var v else { return fallback }
            if v < 0 { v += n }
            return min(max(v, 0), n)
        }
        let a = clamp(lo, 0), b = max(clamp(hi, n), a), st = step ?? 1
        return .known((b - a + st - 1) / st)
    }
}
