import Foundation
import NSIIR
import NSIRuntime
import NSITensor

// The plan's own arithmetic on the reverse pass: while a trace records (see `Tape`),
// every value computed from a point's tensor gets a node whose backward is the op's
// derivative, so a gradient flows from `backward`'s scalar through the script's reads,
// arithmetic and writes into the model. A value of another invoke is a constant here:
// each invoke's reverse pass stays in its own rows.

/// An index with its integers resolved (`Execution.resolve`): what `applyIndex` applies,
/// and what a recorded index or write keeps for the reverse pass (the registers that held
/// the integers may be gone by then).
enum ResolvedIndex {
    case at(Int)
    case slice(Int?, Int?, Int)
    case gather(Tensor)

    struct OutOfRange: Error {
        let message: String
        /// Set when the result would hold more than the bytes allowed (a limit, not a bad index).
        var bytes: Int? = nil
    }

    /// Refuses a result of `count` elements of `size` bytes over `maxBytes`, before it is allocated.
    static func fits(_ count: Int, _ size: Int, _ maxBytes: Int) throws(OutOfRange) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        if overflow || bytes > maxBytes {
            throw OutOfRange(message: "this index gives \(overflow ? "more than \(Int.max)" : String(bytes)) bytes, more than the limit of \(maxBytes) bytes of intermediate values",
                             bytes: overflow ? Int.max : bytes)
        }
    }

    /// NumPy's advanced indexing, for several integer-tensor indices or ones apart: the
    /// integer tensors and integers broadcast to one shape, which takes the place of the
    /// first when they are adjacent and goes first otherwise; slices keep their dimensions.
    static func together(_ items: [ResolvedIndex], _ base: Tensor, maxBytes: Int) throws(OutOfRange) -> Tensor {
        var indexShape: [Int] = []
        for item in items {
            guard case .gather(let g) = item else { continue }
            guard let s = Tensor.broadcastShape(indexShape, g.shape) else {
                throw OutOfRange(message: "integer-tensor indices of shapes \(describeShape(indexShape)) and \(describeShape(g.shape)) do not broadcast")
            }
            indexShape = s
        }
        let advanced = items.indices.filter { if case .slice = items[$0] { return false }; return true }
        let adjacent = advanced.last! - advanced.first! == advanced.count - 1
        // Per base dimension: the coordinates a slice keeps, or the broadcast indices.
        var sliceCoords: [Int: [Int]] = [:]
        var indexValues: [Int: [Int]] = [:]
        var outShape: [Int] = []
        var insertAt = 0
        for (k, item) in items.enumerated() {
            let n = base.shape[k]
            if k == advanced.first! { insertAt = outShape.count }
            switch item {
            case .slice(let a, let b, let s):
                // Python's slice bounds, clamped; negative ones count from the end.
                func clamp(_ v: Int?, _ fallback: Int) -> Int { v.map { min(max($0 < 0 ? $0 + n : $0, 0), n) } ?? fallback }
                let lo = clamp(a, 0), hi = max(clamp(b, n), lo)
                sliceCoords[k] = Array(stride(from: lo, to: hi, by: s))
                outShape.append(sliceCoords[k]!.count)
            case .at(let i):
                guard i >= -n && i < n else { throw OutOfRange(message: "index \(i) is out of range for dimension \(k) of size \(n)") }
                indexValues[k] = Array(repeating: i < 0 ? i + n : i, count: indexShape.reduce(1, *))
            case .gather(let g):
                let values = g.broadcast(to: indexShape).contiguous().toInts()
                if let bad = values.first(where: { $0 < -n || $0 >= n }) {
                    throw OutOfRange(message: "index \(bad) is out of range for dimension \(k) of size \(n)")
                }
                indexValues[k] = values.map { $0 < 0 ? $0 + n : $0 }
            }
        }
        if !adjacent { insertAt = 0 }
        let sliceDims = items.indices.filter { sliceCoords[$0] != nil }
        let sliceShape = sliceDims.map { sliceCoords[$0]!.count }
        let shape = Array(sliceShape[..<insertAt]) + indexShape + Array(sliceShape[insertAt...])
        var count = 1
        for n in shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw OutOfRange(message: "this index's result has more than \(Int.max) elements", bytes: Int.max) }
            count = c
        }
        try fits(count, base.dtype.size, maxBytes)
        let indexCount = indexShape.reduce(1, *)
        let src = base.contiguous(), strides = Tensor.contiguousStrides(base.shape), size = base.dtype.size
        let out = Tensor(zeros: shape, dtype: base.dtype)
        let outStrides = Tensor.contiguousStrides(shape)
        var coords = [Int](repeating: 0, count: shape.count)
        for flat in 0..<count {
            var rem = flat
            for d in 0..<shape.count { coords[d] = rem / outStrides[d]; rem %= outStrides[d] }
            // The position in the broadcast index shape, then each base dimension's coordinate.
            var at = 0
            for (j, d) in (insertAt..<(insertAt + indexShape.count)).enumerated() {
                at = at * indexShape[j] + coords[d]
            }
            var offset = 0, s = 0
            for k in 0..<items.count {
                let c: Int
                if let list = sliceCoords[k] {
                    let d = s < insertAt ? s : s + indexShape.count
                    c = list[coords[d]]
                    s += 1
                } else {
                    c = indexValues[k]![indexCount == 0 ? 0 : at]
                }
                offset += c * strides[k]
            }
            (out.storage.base + flat * size).copyMemory(from: src.storage.base + (src.offset + offset) * size, byteCount: size)
        }
        return out
    }

    /// Positions, slices and integer-tensor indices, dimension by dimension. `d` is where
    /// the next item applies in the partly indexed tensor; errors name item k's dimension
    /// of the base, as the script wrote it.
    static func apply(_ items: [ResolvedIndex], to base: Tensor, maxBytes: Int = .max) throws(OutOfRange) -> Tensor {
        let advanced = items.indices.filter { if case .slice = items[$0] { return false }; return true }
        let gathers = items.filter { if case .gather = $0 { return true }; return false }.count
        if gathers > 1 || (gathers == 1 && advanced.last! - advanced.first! != advanced.count - 1) {
            return try together(items, base, maxBytes: maxBytes)
        }
        var t = base, d = 0
        for (k, item) in items.enumerated() {
            switch item {
            case .at(let i):
                let n = t.shape[d]
                guard i >= -n && i < n else { throw OutOfRange(message: "index \(i) is out of range for dimension \(k) of size \(n)") }
                t = t.select(dim: d, index: i)
            case .slice(let a, let b, let s):
                t = t.slice(dim: d, start: a, end: b, step: s)
                d += 1
            case .gather(let idx):
                try fits(idx.count, (t.count / max(t.shape[d], 1)) * t.dtype.size, maxBytes)
                guard let g = t.indexSelect(dim: d, indices: idx) else {
                    throw OutOfRange(message: "an index in \(describeShape(idx.shape)) is out of range for dimension \(k) of size \(t.shape[d])")
                }
                t = g
                d += idx.rank
            }
        }
        return t
    }
}

extension Execution {
    /// The node of operand `id` as `ins` sees it: nil when nothing records, when the value
    /// carries no gradient, or when it belongs to another invoke.
    func node(_ id: ValueID, for ins: Instruction) -> Int? {
        guard recording, let n = nodes[id.index] else { return nil }
        if let mine = ins.anchor.invoke, let theirs = program.instructions[id.index].anchor.invoke, mine != theirs { return nil }
        return n
    }

    /// An index's integers from their registers, checked: integers, positive steps, and
    /// no integer-tensor index in a write.
    func resolve(_ items: [IndexItem], _ ins: Instruction, forWrite: Bool = false) throws -> [ResolvedIndex] {
        try items.map { item in
            switch item {
            case .at(let v):
                guard let i = try value(v, ins).intValue else { throw VMError(.input, "an index is not an integer", span: ins.range) }
                return .at(i)
            case .slice(let a, let b, let c):
                func int(_ x: ValueID?) throws -> Int? {
                    guard let x else { return nil }
                    guard let i = try value(x, ins).intValue else { throw VMError(.input, "a slice bound is not an integer", span: ins.range) }
                    return i
                }
                let step = try int(c) ?? 1
                guard step > 0 else { throw VMError(.input, "a slice step must be positive", span: ins.range) }
                return .slice(try int(a), try int(b), step)
            case .gather(let v):
                guard !forWrite else { throw VMError(.input, "writes cannot use integer-tensor indices", span: ins.range) }
                return .gather(try tensor(v, ins))
            }
        }
    }

    /// Records the value `ins` computed, when an operand carries a gradient.
    func recordGradient(_ ins: Instruction, _ out: RunValue) throws {
        guard recording, let tape, ins.op.isDifferentiable else { return }
        if case .topk(let source, _, _) = ins.op, let n = node(source, for: ins) {
            topkSources[ins.id.index] = (n, try tensor(source, ins).shape)
            return
        }
        guard case .tensor(let y) = out, y.dtype.isFloatingPoint else { return }
        if case .topkValues(let pair) = ins.op {
            // The values of a top-k: the gradient goes back to the places they came from.
            guard case .topk(_, _, let dim) = program.instructions[pair.index].op, let (n, shape) = topkSources[pair.index],
                  case .topk(_, let indices)? = registers[pair.index] else { return }
            nodes[ins.id.index] = try tape.record([n], shape: y.shape) { g in
                [Tensor(zeros: shape).scatter(dim: dim, index: indices, source: g.contiguous())]
            }
            return
        }
        let operands = ins.op.operands
        let inputs = operands.map { node($0, for: ins) }
        guard inputs.contains(where: { $0 != nil }) else { return }
        // An operand the backward keeps: a small view of a large storage (one logit of the
        // logits) is copied, so that it does not keep the whole storage alive.
        func t(_ id: ValueID) throws -> Tensor {
            let x = try value(id, ins).tensor!.cast(to: .f32)
            return x.count * 4 * 2 < x.storage.byteCount ? x.copy() : x
        }
        let backward: Tape.Backward
        var saved: [Tensor] = []
        switch ins.op {
        case .readPoint, .write, .backward, .prompt, .save, .skip, .detach, .constant, .tensorConstant, .param, .tokens, .resultIds,
             .resultText, .attentionMask, .nonzero, .fill, .fillLike, .random, .weight, .topk, .topkIndices, .topkValues:
            return
        case .unary(let fn, let a):
            let x = try t(a)
            saved = [x]
            let op: UnaryOp
            switch fn {
            case .neg: op = .neg
            case .abs: op = .abs
            case .exp: op = .exp
            case .log: op = .log
            case .sqrt: op = .sqrt
            case .relu: op = .relu
            case .sigmoid: op = .sigmoid
            case .tanh: op = .tanh
            case .not: return
            }
            backward = { g in [Derivative.unary(op, x: x, g: g)] }
        case .binary(let fn, let a, let b):
            let x = try t(a), z = try t(b)
            saved = [x, z]
            backward = try Self.binaryBackward(fn, x, z, y, ins)
        case .index(let base, let items):
            let shape = try tensor(base, ins).shape
            let resolved = try resolve(items, ins)
            backward = { g in
                // Where each element of the result came from: the same index over positions.
                let count = shape.reduce(1, *)
                let positions = Tensor(shape: shape, int64s: (0..<Int64(count)).map { $0 })
                let source = try ResolvedIndex.apply(resolved, to: positions).contiguous().toInt64s(), grad = g.contiguous().toFloats()
                var dx = [Float](repeating: 0, count: count)
                for (i, s) in source.enumerated() { dx[Int(s)] += grad[i] }
                return [Tensor(shape: shape, floats: dx)]
            }
        case .reduce(let fn, let a, let dim, let keepdim):
            let x = try t(a)
            saved = [x, y]
            backward = { g in
                var gg = g, yy = y
                if let dim, !keepdim {
                    gg = gg.unsqueeze(dim < 0 ? dim + x.rank + 1 : dim)
                    yy = yy.unsqueeze(dim < 0 ? dim + x.rank + 1 : dim)
                }
                let count = dim.map { x.shape[$0 < 0 ? $0 + x.rank : $0] } ?? x.count
                let ones = Tensor(zeros: x.shape) + 1
                switch fn {
                case .sum: return [ones * gg]
                case .mean: return [ones * (gg / Float(max(count, 1)))]
                case .max, .min: return [x.binary(.eq, yy).cast(to: .f32) * gg]
                case .norm: return [x * (gg / yy.binary(.maximum, Tensor(scalar: 1e-30)))]
                case .argmax, .argmin: return [nil]
                }
            }
        case .softmax(_, let dim, let log):
            saved = [y]
            backward = { g in
                let d = dim < 0 ? dim + y.rank : dim
                if log { return [g - y.unary(.exp) * g.sum(dim: d, keepdim: true)] }
                return [y * (g - (g * y).sum(dim: d, keepdim: true))]
            }
        case .reshape(let a, _), .unsqueeze(let a, _), .squeeze(let a, _):
            let shape = try tensor(a, ins).shape
            backward = { g in [g.contiguous().reshape(shape)] }
        case .transpose(_, let p, let q):
            backward = { g in [g.transpose(p, q).contiguous()] }
        case .clone, .cast:
            backward = { g in [g] }
        case .cat(let parts, let dim):
            let sizes = try parts.map { try tensor($0, ins).shape[dim] }
            backward = { g in
                var start = 0
                return sizes.map { size in
                    defer { start += size }
                    return g.slice(dim: dim, start: start, end: start + size).contiguous()
                }
            }
        case .stack(let parts, let dim):
            backward = { g in parts.indices.map { g.select(dim: dim, index: $0).contiguous() } }
        case .select(let c, let a, let b):
            let mask = try tensor(c, ins).cast(to: .f32), sa = try t(a).shape, sb = try t(b).shape
            saved = [mask]
            backward = { g in [nil, Self.unbroadcast(g * mask, to: sa), Self.unbroadcast(g * (mask * -1 + 1), to: sb)] }
        case .cosine(let a, let b, let dim):
            let x = try t(a), z = try t(b)
            saved = [x, z, y]
            backward = { g in
                let na = x.reduce(.norm, dim: dim, keepdim: true), nb = z.reduce(.norm, dim: dim, keepdim: true)
                let denominator = (na * nb).binary(.maximum, Tensor(scalar: 1e-8))
                let c = y.unsqueeze(dim < 0 ? dim + y.rank + 1 : dim), gg = g.unsqueeze(dim < 0 ? dim + g.rank + 1 : dim)
                let da = (z / denominator - c * x / (na * na).binary(.maximum, Tensor(scalar: 1e-30))) * gg
                let db = (x / denominator - c * z / (nb * nb).binary(.maximum, Tensor(scalar: 1e-30))) * gg
                return [Self.unbroadcast(da, to: x.shape), Self.unbroadcast(db, to: z.shape)]
            }
        case .gatherAlong(let a, let dim, let index):
            let shape = try tensor(a, ins).shape, idx = try tensor(index, ins)
            backward = { g in
                guard let dx = Tensor(zeros: shape).scatter(dim: dim, index: idx, source: g, accumulate: true) else {
                    throw VMError(.internal, "internal: the gradient of a gather does not fit its input", span: ins.range)
                }
                return [dx, nil]
            }
        case .update(let a, let index, let fn, let valueID):
            // The old value is still the operand's (copy on write), so the backward needs no copy of it.
            let base = try t(a), v = try t(valueID).contiguous()
            let resolved = try resolve(index, ins, forWrite: true)
            let target: (Tensor) throws -> Tensor = { try ResolvedIndex.apply(resolved, to: $0) }
            let old = fn == .mul || fn == .div ? try target(base).contiguous() : nil
            saved = [v] + (old.map { [$0] } ?? [])
            let count = operands.count
            backward = { g in
                let (dx, dv) = try Self.writeBackward(g, target: target, fn: fn, value: v, old: old)
                return [dx] + Array(repeating: nil, count: count - 2) + [dv]
            }
        case .callModule:
            return   // recorded by the module's own steps when it ran (see Execute.swift)
        }
        let n = try tape.record(inputs, shape: y.shape, saved: saved) { g in try backward(g.contiguous()) }
        nodes[ins.id.index] = n
    }

    /// Sums a gradient over the dimensions an operand was broadcast along.
    static func unbroadcast(_ g: Tensor, to shape: [Int]) -> Tensor {
        var t = g
        while t.rank > shape.count { t = t.sum(dim: 0) }
        for d in 0..<shape.count where shape[d] == 1 && t.shape[d] != 1 { t = t.sum(dim: d, keepdim: true) }
        return t.contiguous().reshape(shape)
    }

    static func binaryBackward(_ fn: BinaryFn, _ a: Tensor, _ b: Tensor, _ y: Tensor, _ ins: Instruction) throws -> Tape.Backward {
        let sa = a.shape, sb = b.shape
        func un(_ g: Tensor, _ s: [Int]) -> Tensor { unbroadcast(g, to: s) }
        switch fn {
        case .add: return { g in [un(g, sa), un(g, sb)] }
        case .sub: return { g in [un(g, sa), un(g * -1, sb)] }
        case .mul: return { g in [un(g * b, sa), un(g * a, sb)] }
        case .div: return { g in [un(g / b, sa), un(g * a / (b * b) * -1, sb)] }
        case .mod: return { g in [un(g, sa), nil] }
        case .pow:
            return { g in
                let da = g * b * a.binary(.pow, b - 1)
                let db = g * y * a.unary(.log)
                return [un(da, sa), un(db, sb)]
            }
        case .matmul:
            return { g in
                // As matrices: a [.., n, k] · b [.., k, m]; a vector is a matrix of one row
                // (left) or one column (right).
                let a2 = a.rank == 1 ? a.unsqueeze(0) : a, b2 = b.rank == 1 ? b.unsqueeze(1) : b
                var g2 = g
                if a.rank == 1 { g2 = g2.unsqueeze(g2.rank - (b.rank == 1 ? 0 : 1)) }
                if b.rank == 1 { g2 = g2.unsqueeze(g2.rank) }
                let da = g2.matmul(b2.transpose(-2, -1).contiguous())
                let db = a2.transpose(-2, -1).contiguous().matmul(g2.contiguous())
                let shapeA = Array(repeating: 1, count: max(0, da.rank - a2.rank)) + a2.shape
                let shapeB = Array(repeating: 1, count: max(0, db.rank - b2.rank)) + b2.shape
                return [un(da, shapeA).reshape(sa), un(db, shapeB).reshape(sb)]
            }
        case .eq, .ne, .lt, .le, .gt, .ge, .and, .or:
            return { _ in [nil, nil] }
        }
    }

    // MARK: Points

    /// A read of the invoke's rows of a point on a recording pass.
    func recordRead(_ ins: Instruction, full: [Int], rows: Range<Int>) throws {
        guard recording, let tape, let from = tape.current else { return }
        nodes[ins.id.index] = try tape.record([from], shape: [rows.count] + full.dropFirst()) { g in
            let dx = Tensor(zeros: full)
            dx.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound).assign(g)
            return [dx]
        }
    }

    /// A write into a point on a recording pass: the point's new value is a node of the old
    /// one and the written value. `old` is the target's values before the write.
    func recordWrite(_ ins: Instruction, full: [Int], rows: Range<Int>, index: [ResolvedIndex], fn: AssignFn,
                     value: Tensor, old: Tensor?) throws {
        guard recording, let tape else { return }
        guard let from = tape.current else { return }
        let v = value.contiguous()
        let valueNode: Int? = {
            guard case .write(_, _, _, let id) = ins.op else { return nil }
            return node(id, for: ins)
        }()
        let target: (Tensor) throws -> Tensor = { t in
            try ResolvedIndex.apply(index, to: t.slice(dim: 0, start: rows.lowerBound, end: rows.upperBound))
        }
        tape.current = try tape.record([from, valueNode], shape: full, saved: [old, v].compactMap { $0 }) { g in
            let (dx, dv) = try Self.writeBackward(g, target: target, fn: fn, value: v, old: old)
            return [dx, valueNode == nil ? nil : dv]
        }
    }

    /// The derivative of `target(x) fn= v` (a write, or a `let`'s update): the gradient
    /// `g` of the result, back to x (through the region only for `*=` and `/=`, not at all
    /// for `=`) and to v (summed over the dimensions it was broadcast along). `old` is the
    /// region's values before the write, which `*=` and `/=` need for v's gradient.
    static func writeBackward(_ g: Tensor, target: (Tensor) throws -> Tensor, fn: AssignFn, value v: Tensor,
                              old: Tensor?) throws -> (Tensor, Tensor?) {
        let dx = g.copy()
        let region = try target(dx)
        let gRegion = try target(g).contiguous()
        var dv: Tensor?
        switch fn {
        case .set:
            region.fill(0)
            dv = gRegion
        case .add: dv = gRegion
        case .sub: dv = gRegion * -1
        case .mul:
            region.binaryInPlace(.mul, v)
            dv = old.map { gRegion * $0 }
        case .div:
            region.binaryInPlace(.div, v)
            dv = old.map { gRegion * $0 / (v * v) * -1 }
        }
        return (dx, dv.map { unbroadcast($0, to: v.shape) })
    }
}
