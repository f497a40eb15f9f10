import NSIIR
import NSITensor

/// The rules of each opcode beyond its operand kinds: where it may run, and that its
/// result type fits its operands. Ranks are derived from the sources of values (points,
/// constants, params, token ids), so a plan cannot claim a rank the run will not have.
extension CodeVerifier {
    func checkRules(_ ins: PlanInstruction, _ result: PlanType?, _ at: CodeLocation) throws(BytecodeError) {
        let ops = ins.operands
        func n(_ k: Int) -> Int { if case .int(let v) = ops[k] { return v }; return -1 }
        func rank(_ r: Int) -> Int { type(of: r)?.rank ?? 0 }
        func resultMismatch(_ expected: String) -> BytecodeError {
            .resultType(at: at, expected: expected, found: result.map(plan.describe) ?? "none")
        }
        func expectRank(_ expected: Int) throws(BytecodeError) {
            guard let got = result?.rank ?? result.flatMap(topkRank), got == expected else { throw resultMismatch("rank \(expected)") }
        }

        // f16 and bf16 are how weights are stored; no op computes in them.
        if case .tensor(let d, _)? = result, d == .f16 || d == .bf16 {
            throw resultMismatch("a dtype ops compute in (f32, i32, i64, u8, bool); \(d.rawValue) is storage only")
        }
        switch ins.opcode {
        case .constant:
            let fits: Bool
            switch (plan.values[n(0)], result) {
            case (.int, .int?), (.float, .float?), (.bool, .bool?), (.str, .str?): fits = true
            case (.list(let items), .strings(let rows)?): fits = items.count == rows && items.allSatisfy { if case .str = plan.values[$0] { return true }; return false }
            case (.list, .tensor?), (.list, .list?): fits = true
            default: fits = false
            }
            guard fits else { throw resultMismatch("the type of K[\(n(0))]") }
        case .tensorConstant:
            let t = plan.tensors[n(0)]
            guard case .tensor(let d, let dims)? = result, d == .f32 || d == .i64, dims == t.shape.map({ PlanDim.known($0) }) else {
                throw resultMismatch("a tensor of shape \(t.shape)")
            }
        case .param:
            let name = plan.strings[n(0)]
            guard let p = plan.params.first(where: { plan.strings[$0.name] == name }) else { break }
            guard p.binding == .runTime else { throw .misplaced(at: at, detail: "compile-time param \(name) is read at run time") }
            guard result == plan.types[p.type] else { throw resultMismatch(plan.describe(plan.types[p.type])) }
        case .readPoint:
            let p = n(0)
            guard ins.anchor.phase.point == p else { throw .misplaced(at: at, detail: "a read of point \(p) runs at \(ins.anchor.phase)") }
            guard case .tensor(.f32, let dims)? = result, dims.count == target.pointRanks[p] else {
                throw resultMismatch("f32 of rank \(target.pointRanks[p])")
            }
            if p < target.pointSizes.count {
                for (d, size) in target.pointSizes[p].enumerated() where size != nil && d < dims.count && dims[d] != .known(size!) {
                    throw resultMismatch("size \(size!) along dimension \(d) (the model's)")
                }
            }
        case .tokens:
            try expectRank(1)
        case .resultIds:
            try expectRank(2)
        case .attentionMask:
            guard ins.anchor.block >= 0, ins.anchor.phase == .before else { throw .misplaced(at: at, detail: "a mask belongs to a block, before its pass") }
            guard case .tensor(.i64, let dims)? = result, dims.count == 2 else { throw resultMismatch("i64 of rank 2") }
        case .resultText:
            guard case .strings? = result else { throw resultMismatch("str[rows]") }
        case .unary:
            // `not` of a one-element condition is typed bool by the checker.
            if WireCodes.unary[n(0)] == .not, result == .bool, let t = type(of: n(1)), oneElement(t) { break }
            try expectRank(rank(n(1)))
        case .binary:
            try checkBinary(ins, result, at)
        case .index:
            guard case .index(let items) = ops[1] else { break }
            if case .strings? = type(of: n(0)) {
                guard items.count == 1, case .at = items[0] else { throw .badIndex(at: at, detail: "a str list takes one position") }
                guard result == .str else { throw resultMismatch("str") }
                break
            }
            guard case .tensor? = type(of: n(0)) else {
                throw .operandType(at: at, operand: "a", expected: "a tensor or a str list", found: type(of: n(0)).map(plan.describe) ?? "no value")
            }
            let base = rank(n(0))
            guard items.count == base else { throw .badIndex(at: at, detail: "\(items.count) index items for rank \(base)") }
            // Integer-tensor indices broadcast together: one set of dimensions for all of them.
            var out = 0, together = 0
            for item in items {
                switch item {
                case .at: break
                case .slice: out += 1
                case .gather(let r): together = max(together, rank(r))
                }
            }
            try expectRank(out + together)
        case .reduce:
            let r = rank(n(1)), keep = n(3) == 1
            if case .none = ops[2] { try expectRank(keep ? r : 0) } else { try expectRank(keep ? r : r - 1) }
        case .softmax, .transpose, .clone, .fillLike, .detach:
            try expectRank(rank(n(0)))
        case .cast:
            try expectRank(rank(n(0)))
            guard result?.elementType == WireCodes.dtypes[n(1)] else { throw resultMismatch(WireCodes.dtypes[n(1)].rawValue) }
        case .topk:
            try expectRank(rank(n(0)))
            let k = n(1), d = n(2)
            if let dims = type(of: n(0))?.dims, d < dims.count, case .known(let size) = dims[d], k > size {
                throw .badTopK(at: at, k: k, detail: "the dimension has \(size) entries")
            }
        case .topkValues, .topkIndices:
            guard let pair = type(of: n(0)).flatMap(topkRank) else { break }
            try expectRank(pair)
        case .reshape:
            guard case .shape(let dims) = ops[1] else { break }
            guard result?.dims == dims else { throw resultMismatch("the reshape's own shape") }
            if let from = known(type(of: n(0))?.dims), let to = known(dims) {
                guard let a = product(from), let b = product(to), a == b else {
                    throw .badShape(at: at, detail: "cannot reshape \(from) to \(to): the number of elements differs")
                }
            }
        case .unsqueeze, .stack:
            if ins.opcode == .stack, case .registers(let rs) = ops[0], Set(rs.map(rank)).count > 1 {
                throw .operandType(at: at, operand: "parts", expected: "tensors of one rank", found: "ranks \(rs.map(rank))")
            }
            let r = ins.opcode == .stack ? registerRank(ins) ?? 0 : rank(n(0))
            try expectRank(r + 1)
        case .squeeze:
            let r = rank(n(0))
            guard let got = result?.rank, got <= r, got >= (ops[1] == .none ? 0 : r - 1) else { throw resultMismatch("rank at most \(r)") }
        case .cat:
            if case .registers(let rs) = ops[0], Set(rs.map(rank)).count > 1 {
                throw .operandType(at: at, operand: "parts", expected: "tensors of one rank", found: "ranks \(rs.map(rank))")
            }
            try expectRank(registerRank(ins) ?? 0)
        case .select:
            try expectRank(registerRank(ins) ?? 0)
        case .cosine:
            try expectRank(max((registerRank(ins) ?? 0) - 1, 0))
        case .fill:
            guard case .shape(let dims) = ops[0], result?.dims == dims else { throw resultMismatch("the fill's own shape") }
        case .weight:
            guard let shape = target.weights[plan.strings[n(0)]] else { break }
            guard result?.dims == shape.map({ .known($0) }), result?.elementType == .f32 else {
                throw resultMismatch("f32[" + shape.map(String.init).joined(separator: ", ") + "]")
            }
        case .random:
            guard case .shape(let dims) = ops[0], result?.dims == dims else { throw resultMismatch("the draw's own shape") }
            let integers = n(1) == 2
            guard result?.elementType == (integers ? .i64 : .f32) else { throw resultMismatch(integers ? "i64" : "f32") }
            if integers, n(3) <= n(2) { throw .operandType(at: at, operand: "high", expected: "more than low (\(n(2)))", found: String(n(3))) }
        case .callModule:
            let r = rank(n(1))
            guard let got = result?.rank, got == r || got == r + 1 else { throw resultMismatch("rank \(r) or \(r + 1)") }
        case .write:
            let p = n(0)
            guard ins.anchor.phase.point == p else { throw .misplaced(at: at, detail: "a write to point \(p) runs at \(ins.anchor.phase)") }
            guard case .index(let items) = ops[1] else { break }
            guard items.count == 0 || items.count == target.pointRanks[p] else {
                throw .badIndex(at: at, detail: "\(items.count) index items for point \(p) of rank \(target.pointRanks[p])")
            }
            if items.contains(where: { if case .gather = $0 { return true }; return false }) {
                throw .badIndex(at: at, detail: "a write takes positions and slices, not an integer-tensor index")
            }
        case .nonzero:
            guard case .tensor(.i64, let dims)? = result, dims.count == 2, dims[1] == .known(rank(n(0))) else {
                throw resultMismatch("i64[N, \(rank(n(0)))]")
            }
        case .gather:
            guard let index = type(of: n(2)), index.isIntegral, case .tensor = index else {
                throw .operandType(at: at, operand: "ix", expected: "an integer tensor", found: type(of: n(2)).map(plan.describe) ?? "no value")
            }
            guard index.rank == rank(n(0)) else { throw .operandType(at: at, operand: "ix", expected: "rank \(rank(n(0)))", found: "rank \(index.rank ?? 0)") }
            guard case .tensor(.f32, let dims)? = result, dims == index.dims else { throw resultMismatch("f32 of the index's shape") }
        case .update:
            guard result == type(of: n(0)) else { throw resultMismatch(type(of: n(0)).map(plan.describe) ?? "the type of R[a]") }
            guard case .index(let items) = ops[1] else { break }
            guard items.count == 0 || items.count == rank(n(0)) else { throw .badIndex(at: at, detail: "\(items.count) index items for rank \(rank(n(0)))") }
            if items.contains(where: { if case .gather = $0 { return true }; return false }) {
                throw .badIndex(at: at, detail: "an update takes positions and slices, not an integer-tensor index")
            }
            if case .tensor(let d, _)? = result, d != .f32, WireCodes.assign[n(2)] != .set {
                throw .operandType(at: at, operand: "fn", expected: "= for a \(d.rawValue) tensor", found: WireCodes.assign[n(2)].rawValue)
            }
        case .save:
            guard ins.anchor.steps.isSingle else { throw .misplaced(at: at, detail: "a save runs at \(ins.anchor.steps), not one step") }
            saveKeys.append((key: n(0), type: plan.code[n(1)].type))
        case .backward:
            guard let t = type(of: n(0)), oneElement(t), t.elementType == .f32 else {
                throw .operandType(at: at, operand: "a", expected: "an f32 scalar", found: type(of: n(0)).map(plan.describe) ?? "no value")
            }
            guard ins.anchor.block >= 0, case .trace = plan.blocks[ins.anchor.block].kind else {
                throw .misplaced(at: at, detail: "a backward outside a trace")
            }
            guard backwards.insert([ins.anchor.block, ins.anchor.invoke ?? -1]).inserted else {
                throw .misplaced(at: at, detail: "a second backward in one invoke")
            }
        case .skip:
            guard ins.anchor.phase == .before, ins.anchor.block >= 0 else { throw .misplaced(at: at, detail: "a skip belongs before a block's pass") }
        case .prompt:
            let b = ins.anchor.block
            guard b >= 0, let k = ins.anchor.invoke, ins.anchor.phase == .before else {
                throw .misplaced(at: at, detail: "a prompt belongs to an invoke, before its block's pass")
            }
            guard plan.code[n(0)].anchor.block < b else {
                throw .misplaced(at: at, detail: "a prompt computed in its own block, after the block's prompts are read")
            }
            let t = type(of: n(0))
            var integerDims: [Int?]?
            if case .tensor(let d, let dims)? = t, d.isInteger { integerDims = dims.map { if case .known(let v) = $0 { return v }; return nil } }
            let inv = plan.blocks[b].invokes[k]
            var strings: Int?
            if case .strings(let n)? = t { strings = n }
            guard let rows = Invoke.promptRows(isString: t == .str, strings: strings, integerDims: integerDims), rows == inv.rows else {
                throw .operandType(at: at, operand: "a", expected: "a str, str[\(inv.rows)] or integer token ids [T] or [\(inv.rows), T]", found: t.map(plan.describe) ?? "no value")
            }
            guard inv.prompts == nil, inv.promptParam == nil, prompted.insert([b, k]).inserted else {
                throw .misplaced(at: at, detail: "a second prompt for block \(b) invoke \(k)")
            }
        }
    }

    /// Beyond ranks: the sizes (and, where the op fixes it, the dtype) a result must have
    /// given its operands' types, for the ops whose result follows from them alone. Sizes
    /// that depend on run-time values (slices of a run-time length, masks) are the VM's
    /// to hold: it stops a run whose value differs from its declared type.
    func checkDerived(_ ins: PlanInstruction, _ result: PlanType?, _ at: CodeLocation) throws(BytecodeError) {
        guard case .tensor(let dtype, let dims)? = result else { return }
        let ops = ins.operands
        func n(_ k: Int) -> Int { if case .int(let v) = ops[k] { return v }; return -1 }
        func operand(_ k: Int) -> PlanType? { type(of: n(k)) }
        func axis(_ d: Int, _ rank: Int) -> Int { d < 0 ? d + rank : d }
        var want: [PlanDim]?
        var wantType: DType?
        switch ins.opcode {
        case .unary:
            // `not` of a one-element condition is typed bool; elementwise otherwise.
            want = operand(1)?.dims
        case .softmax:
            want = operand(0)?.dims
            wantType = .f32
        case .clone, .detach:
            want = operand(0)?.dims
            wantType = operand(0)?.elementType
        case .cast:
            want = operand(0)?.dims
        case .fillLike:
            want = operand(0)?.dims
        case .transpose:
            if var d = operand(0)?.dims {
                let a = axis(n(1), d.count), b = axis(n(2), d.count)
                if a >= 0, b >= 0, a < d.count, b < d.count { d.swapAt(a, b); want = d }
            }
        case .unsqueeze:
            if var d = operand(0)?.dims {
                let a = axis(n(1), d.count + 1)
                if a >= 0, a <= d.count { d.insert(.known(1), at: a); want = d }
            }
        case .reduce:
            if let d = operand(1)?.dims {
                if case .none = ops[2] {
                    want = n(3) == 1 ? d.map { _ in .known(1) } : []
                } else {
                    let a = axis(n(2), d.count)
                    if a >= 0, a < d.count { var out = d; if n(3) == 1 { out[a] = .known(1) } else { out.remove(at: a) }; want = out }
                }
            }
        case .binary:
            guard let a = operand(1)?.dims, let b = operand(2)?.dims else { break }
            if WireCodes.binary[n(0)] == .matmul {
                let inner = (a.last!, b.count == 1 ? b[0] : b[b.count - 2])
                if case .known(let x) = inner.0, case .known(let y) = inner.1, x != y {
                    throw .operandType(at: at, operand: "a, b", expected: "inner sizes that agree", found: "\(x) and \(y)")
                }
                want = matmulDims(a, b)
            } else {
                try expectBroadcast([a, b], at)
                want = broadcastDims([a, b])
            }
        case .select:
            if let c = operand(0)?.dims, let a = operand(1)?.dims, let b = operand(2)?.dims {
                try expectBroadcast([c, a, b], at)
                want = broadcastDims([c, a, b])
            }
        case .squeeze:
            guard let d = operand(0)?.dims else { break }
            if case .none = ops[1] {
                want = d.filter { $0 != .known(1) }
                if d.contains(where: { if case .symbol = $0 { return true }; return false }) { want = nil }   // a run-time 1 may go too
            } else {
                let a = axis(n(1), d.count)
                if a >= 0, a < d.count {
                    if d[a] == .known(1) { var out = d; out.remove(at: a); want = out } else if case .known = d[a] { want = d }
                }
            }
        case .cat, .stack:
            guard case .registers(let rs) = ops[0], let first = rs.first, let d0 = type(of: first)?.dims else { break }
            let parts = rs.compactMap { type(of: $0)?.dims }
            guard parts.count == rs.count else { break }
            if ins.opcode == .stack {
                let a = axis(n(1), d0.count + 1)
                if a >= 0, a <= d0.count, parts.allSatisfy({ $0 == d0 }) { var out = d0; out.insert(.known(rs.count), at: a); want = out }
            } else {
                let a = axis(n(1), d0.count)
                guard a >= 0, a < d0.count else { break }
                var total = 0
                for p in parts {
                    guard case .known(let k) = p[a] else { total = -1; break }
                    total += k
                }
                var out = d0
                if total >= 0 {
                    out[a] = .known(total)
                    want = out
                } else if case .tensor(_, let got) = result!, got.count == out.count {
                    // A run-time length along the joined dimension: the others must still match.
                    out[a] = got[a]
                    want = out
                }
            }
        default:
            return
        }
        if let want, want != dims {
            throw .resultType(at: at, expected: "sizes " + String(plan.describe(.tensor(dtype, want)).drop(while: { $0 != "[" })), found: plan.describe(.tensor(dtype, dims)))
        }
        if let wantType, wantType != dtype {
            throw .resultType(at: at, expected: wantType.rawValue, found: plan.describe(.tensor(dtype, dims)))
        }
    }

    /// Operands whose known sizes cannot broadcast (two different sizes, neither 1, in one
    /// aligned dimension) are refused; sizes known only when running are the VM's.
    func expectBroadcast(_ shapes: [[PlanDim]], _ at: CodeLocation) throws(BytecodeError) {
        let rank = shapes.map(\.count).max() ?? 0
        for k in 0..<rank {
            var size: Int?
            for s in shapes where k < s.count {
                guard case .known(let d) = s[s.count - 1 - k], d != 1 else { continue }
                if let size, size != d {
                    throw .operandType(at: at, operand: "operands", expected: "sizes that broadcast",
                                       found: shapes.map { "[" + $0.map { if case .known(let n) = $0 { return String(n) }; return "?" }.joined(separator: ", ") + "]" }.joined(separator: " and "))
                }
                size = d
            }
        }
    }

    /// Shapes broadcast as NumPy does, aligned from the last dimension: equal sizes, or a
    /// size 1 beside any other. Nil when two sizes neither match nor include a 1 (the
    /// run decides, for symbols), so no claim is made.
    func broadcastDims(_ shapes: [[PlanDim]]) -> [PlanDim]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out: [PlanDim] = []
        for k in 0..<rank {
            var size: PlanDim = .known(1)
            for s in shapes where k < s.count {
                let d = s[s.count - 1 - k]
                if d == .known(1) || d == size { continue }
                guard size == .known(1) else { return nil }
                size = d
            }
            out.append(size)
        }
        return out.reversed()
    }

    /// The sizes of a matrix product: [..., m, k] @ [..., k, n] gives the broadcast batch
    /// and [m, n]; a vector operand loses its dimension.
    func matmulDims(_ a: [PlanDim], _ b: [PlanDim]) -> [PlanDim]? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        let a2 = a.count == 1 ? [.known(1)] + a : a
        let b2 = b.count == 1 ? b + [.known(1)] : b
        guard let batch = broadcastDims([Array(a2.dropLast(2)), Array(b2.dropLast(2))]) else { return nil }
        var out = batch + [a2[a2.count - 2], b2[b2.count - 1]]
        if a.count == 1 { out.remove(at: out.count - 2) }
        if b.count == 1 { out.removeLast() }
        return out
    }

    func checkBinary(_ ins: PlanInstruction, _ result: PlanType?, _ at: CodeLocation) throws(BytecodeError) {
        guard case .int(let code) = ins.operands[0], case .int(let a) = ins.operands[1], case .int(let b) = ins.operands[2],
              let ta = type(of: a), let tb = type(of: b) else { return }
        let fn = WireCodes.binary[code]
        let found = "\(plan.describe(ta)) and \(plan.describe(tb))"
        let mismatch = BytecodeError.resultType(at: at, expected: "", found: result.map(plan.describe) ?? "none")
        if ta == .str || tb == .str {
            guard ta == tb, fn == .eq || fn == .ne else { throw .operandType(at: at, operand: "a, b", expected: "numbers or tensors", found: found) }
            guard result == .bool else { throw mismatch }
            return
        }
        if fn == .and || fn == .or {
            guard ta.elementType == .bool, tb.elementType == .bool else {
                throw .operandType(at: at, operand: "a, b", expected: "bools", found: found)
            }
            // Nested conditions: `and` of one-element conditions is typed bool.
            if result == .bool && oneElement(ta) && oneElement(tb) { return }
        }
        guard let ra = ta.rank, let rb = tb.rank else { return }
        let expected: Int
        if fn == .matmul {
            guard ra >= 1 && rb >= 1 else { throw .operandType(at: at, operand: "a, b", expected: "tensors of rank 1 or more", found: found) }
            expected = ra == 1 && rb == 1 ? 0 : ra == 1 ? rb - 1 : rb == 1 ? ra - 1 : max(ra, rb)
        } else {
            expected = max(ra, rb)
        }
        guard result?.rank == expected else {
            throw .resultType(at: at, expected: "rank \(expected)", found: result.map(plan.describe) ?? "none")
        }
    }

    func topkRank(_ t: PlanType) -> Int? { if case .topk(let dims) = t { return dims.count }; return nil }

    func known(_ dims: [PlanDim]?) -> [Int]? {
        guard let dims else { return nil }
        var out: [Int] = []
        for d in dims { guard case .known(let n) = d else { return nil }; out.append(n) }
        return out
    }

    func product(_ dims: [Int]) -> Int? {
        var p = 1
        for d in dims {
            let (r, o) = p.multipliedReportingOverflow(by: d)
            if o { return nil }
            p = r
        }
        return p
    }
}
