import Foundation
import NSIIR
import NSITensor

extension Execution {
    func unary(_ fn: UnaryFn, _ v: RunValue, _ ins: Instruction) throws -> RunValue {
        if let c = v.scalarConstant {
            switch ScalarMath.unary(fn, c, resultType: ins.type) {
            case .value(let r): return RunValue.from(r)
            case .trap(let m): throw VMError(.input, m, span: ins.range)
            case .notScalar: break
            }
        }
        guard let t = v.tensor else { throw VMError(.input, "\(fn.rawValue) needs a number or a tensor", span: ins.range) }
        let result: Tensor
        switch fn {
        case .neg: result = t.unary(.neg)
        case .not: result = t.binary(.eq, 0)
        case .abs: result = t.unary(.abs)
        case .exp: result = t.unary(.exp)
        case .log: result = t.unary(.log)
        case .sqrt: result = t.unary(.sqrt)
        case .relu: result = t.unary(.relu)
        case .sigmoid: result = t.unary(.sigmoid)
        case .tanh: result = t.unary(.tanh)
        }
        // `not` of a one-element tensor condition is typed a bool scalar.
        if case .some(.bool) = ins.type { return .bool(result.toFloats().first.map { $0 != 0 } ?? false) }
        return .tensor(conform(result, ins))
    }

    /// Casts a computed tensor to the dtype the checker gave the instruction.
    func conform(_ t: Tensor, _ ins: Instruction) -> Tensor {
        if case .tensor(let dtype, _) = ins.type, dtype != t.dtype { return t.cast(to: dtype) }
        return t
    }

    func binary(_ fn: BinaryFn, _ a: RunValue, _ b: RunValue, _ ins: Instruction) throws -> RunValue {
        // Scalars stay scalars, in Python's arithmetic.
        if let x = a.scalarConstant, let y = b.scalarConstant {
            switch ScalarMath.binary(fn, x, y, resultType: ins.type) {
            case .value(let r): return RunValue.from(r)
            case .trap(let m): throw VMError(.input, m, span: ins.range)
            case .notScalar: break
            }
        }
        guard let x = a.tensor, let y = b.tensor else { throw VMError(.input, "\(fn.rawValue) needs numbers or tensors", span: ins.range) }
        if fn != .matmul {
            guard let shape = Tensor.broadcastShape(x.shape, y.shape) else {
                throw VMError(.input, "shapes \(describeShape(x.shape)) and \(describeShape(y.shape)) do not broadcast", span: ins.range)
            }
            try reserve(shape, ins)
        } else if x.rank >= 2, y.rank >= 2 {
            // The product's batch dimensions broadcast; it is [..., m, n].
            let batch = Tensor.broadcastShape(Array(x.shape.dropLast(2)), Array(y.shape.dropLast(2))) ?? []
            try reserve(batch + [x.shape[x.rank - 2], y.shape[y.rank - 1]], ins)
        }
        let result: Tensor
        switch fn {
        case .add: result = x.binary(.add, y)
        case .sub: result = x.binary(.sub, y)
        case .mul: result = x.binary(.mul, y)
        case .div: result = x.binary(.div, y)
        case .pow: result = x.binary(.pow, y)
        case .mod:
            // Python's modulo: the result takes the divisor's sign.
            let shape = Tensor.broadcastShape(x.shape, y.shape)!
            let xs = x.cast(to: .f32).broadcast(to: shape).toFloats(), ys = y.cast(to: .f32).broadcast(to: shape).toFloats()
            result = Tensor(shape: shape, floats: zip(xs, ys).map { $0 - ($0 / $1).rounded(.down) * $1 })
        case .matmul:
            guard x.rank >= 1, y.rank >= 1, x.shape[x.rank - 1] == y.shape[max(y.rank - 2, 0)] else {
                throw VMError(.input, "cannot multiply \(describeShape(x.shape)) by \(describeShape(y.shape))", span: ins.range)
            }
            result = try interruptibleProduct(x, y, ins)
        case .eq: result = x.binary(.eq, y)
        case .ne: result = x.binary(.ne, y)
        case .lt: result = x.binary(.lt, y)
        case .le: result = x.binary(.le, y)
        case .gt: result = x.binary(.gt, y)
        case .ge: result = x.binary(.ge, y)
        case .and: result = x.binary(.ne, 0).binary(.mul, y.binary(.ne, 0)).binary(.ne, 0)
        case .or: result = x.binary(.ne, 0).binary(.maximum, y.binary(.ne, 0)).binary(.ne, 0)
        }
        if case .some(.int) = ins.type { return .int(result.toInts()[0]) }
        if case .some(.float) = ins.type { return .float(Double(result.toFloats()[0])) }
        if case .some(.bool) = ins.type { return .bool(result.toFloats()[0] != 0) }
        return .tensor(conform(result, ins))
    }

    /// A large product (more than 2^32 multiply-adds, seconds of work), of matrices or of
    /// batches of them, in at most 16 parts along its first batch dimension of two or more
    /// entries (or along its rows) with the run's cancel and deadline checked between
    /// them, each part split again the same way while it is still large: one instruction
    /// cannot hold a run, or the server's worker, far past either. Smaller products, and
    /// products with a vector, run whole.
    func interruptibleProduct(_ x: Tensor, _ y: Tensor, _ ins: Instruction) throws -> Tensor {
        guard x.rank >= 2, y.rank >= 2 else { return x.matmul(y) }
        let (m, k, n) = (x.shape[x.rank - 2], x.shape[x.rank - 1], y.shape[y.rank - 1])
        guard let batch = Tensor.broadcastShape(Array(x.shape.dropLast(2)), Array(y.shape.dropLast(2))) else {
            throw VMError(.input, "cannot multiply \(describeShape(x.shape)) by \(describeShape(y.shape)): their batch dimensions do not broadcast",
                          span: ins.range)
        }
        var work = 1, overflow = false
        for f in batch + [m, k, n] {
            let (p, o) = work.multipliedReportingOverflow(by: f)
            (work, overflow) = (p, overflow || o)
        }
        guard overflow || work > 1 << 32 else { return x.matmul(y) }
        // The first batch dimension with two or more entries, else the rows.
        let dim = batch.firstIndex { $0 >= 2 } ?? batch.count
        let size = dim < batch.count ? batch[dim] : m
        guard size >= 2 else { return x.matmul(y) }
        let xs = x.broadcast(to: batch + [m, k]), ys = y.broadcast(to: batch + [k, n])
        let out = Tensor(zeros: batch + [m, n])
        let step = (size + 15) / 16
        var start = 0
        while start < size {
            try checkCancelled(ins.range)
            let end = min(size, start + step)
            let part = try interruptibleProduct(xs.slice(dim: dim, start: start, end: end),
                                                dim < batch.count ? ys.slice(dim: dim, start: start, end: end) : ys, ins)
            out.slice(dim: dim, start: start, end: end).assign(part)
            start = end
        }
        return out
    }
}

extension RunValue {
    /// A scalar register as a constant, for ScalarMath (rank-0 tensors count as numbers).
    var scalarConstant: ConstValue? {
        switch self {
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .bool(let b): return .bool(b)
        case .str(let s): return .str(s)
        case .tensor(let t) where t.rank == 0 && t.dtype == .f32: return .float(Double(t.item()))
        default: return nil
        }
    }
}
