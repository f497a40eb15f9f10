import Foundation

/// Binary elementwise operations, broadcasting like NumPy.
public enum BinaryOp: String, Sendable, CaseIterable {
    case add, sub, mul, div, pow, maximum, minimum
    case eq, ne, lt, le, gt, ge

    public var isComparison: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge: return true
        default: return false
        }
    }

    @inline(__always)
    func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return powf(a, b)
        case .maximum: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        case .minimum: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        case .eq: return a == b ? 1 : 0
        case .ne: return a != b ? 1 : 0
        case .lt: return a < b ? 1 : 0
        case .le: return a <= b ? 1 : 0
        case .gt: return a > b ? 1 : 0
        case .ge: return a >= b ? 1 : 0
        }
    }
}

/// Unary elementwise operations.
public enum UnaryOp: String, Sendable, CaseIterable {
    case neg, abs, exp, log, sqrt, relu, sigmoid, tanh, silu, gelu, geluTanh

    @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .exp: return expf(x)
        case .log: return logf(x)
        case .sqrt: return sqrtf(x)
        case .relu: return x > 0 ? x : (x.isNaN ? x : 0)
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        case .silu: return x / (1 + expf(-x))
        // Exact GELU: x * Φ(x), Φ through erf.
        case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        // The tanh approximation GPT-2 uses ("gelu_new").
        case .geluTanh:
            let c: Float = 0.7978845608028654  // sqrt(2/pi)
            return 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x)))
        }
    }
}

extension Tensor {
    /// `op(self, other)` with broadcasting. Integer operands are computed in f32;
    /// comparisons give a `bool` tensor.
    public func binary(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        let a = dtype == .f32 ? self : cast(to: .f32)
        let b = other.dtype == .f32 ? other : other.cast(to: .f32)
        guard let outShape = Tensor.broadcastShape(a.shape, b.shape) else {
            preconditionFailure("shapes \(describeShape(shape)) and \(describeShape(other.shape)) do not broadcast")
        }
        let out = Tensor(zeros: outShape, dtype: .f32)
        let o = out.floatPointer
        let n = out.count
        let ap = a.storage.base.assumingMemoryBound(to: Float.self)
        let bp = b.storage.base.assumingMemoryBound(to: Float.self)
        let sendable = (UncheckedPointer(o), UncheckedPointer(ap), UncheckedPointer(bp))
        if a.shape == outShape && b.shape == outShape && a.isContiguous && b.isContiguous {
            let ao = a.offset, bo = b.offset
            parallelFor(n) { r in
                let (o, ap, bp) = (sendable.0.p, sendable.1.p, sendable.2.p)
                for i in r { o[i] = op.apply(ap[ao + i], bp[bo + i]) }
            }
        } else if b.count == 1 && a.shape == outShape && a.isContiguous {
            let s = b.toFloats()[0], ao = a.offset
            parallelFor(n) { r in
                let (o, ap) = (sendable.0.p, sendable.1.p)
                for i in r { o[i] = op.apply(ap[ao + i], s) }
            }
        } else if a.count == 1 && b.shape == outShape && b.isContiguous {
            let s = a.toFloats()[0], bo = b.offset
            parallelFor(n) { r in
                let (o, bp) = (sendable.0.p, sendable.2.p)
                for i in r { o[i] = op.apply(s, bp[bo + i]) }
            }
        } else {
            let ab = a.broadcast(to: outShape), bb = b.broadcast(to: outShape)
            var k = 0
            forEachRow(shape: outShape, strides: [ab.strides, bb.strides], offsets: [ab.offset, bb.offset]) { offs, len, inner in
                for i in 0..<len {
                    o[k + i] = op.apply(ap[offs[0] + i * inner[0]], bp[offs[1] + i * inner[1]])
                }
                k += len
            }
        }
        return op.isComparison ? out.cast(to: .bool) : out
    }

    public func binary(_ op: BinaryOp, _ scalar: Float) -> Tensor { binary(op, Tensor(scalar: scalar)) }

    /// `op(self)` elementwise into a new contiguous f32 tensor.
    public func unary(_ op: UnaryOp) -> Tensor {
        let src = (dtype == .f32 ? self : cast(to: .f32)).contiguous()
        let out = Tensor(zeros: shape, dtype: .f32)
        let p = (UncheckedPointer(src.floatPointer), UncheckedPointer(out.floatPointer))
        parallelFor(count, cost: 8) { r in
            let (s, o) = (p.0.p, p.1.p)
            for i in r { o[i] = op.apply(s[i]) }
        }
        return out
    }

    /// Applies `op` in place to a contiguous f32 tensor.
    public func unaryInPlace(_ op: UnaryOp) {
        precondition(isContiguous && dtype == .f32, "in-place ops need a contiguous f32 tensor")
        let p = UncheckedPointer(floatPointer)
        parallelFor(count, cost: 8) { r in
            let s = p.p
            for i in r { s[i] = op.apply(s[i]) }
        }
    }

    /// `self op= other` in place (this view keeps its storage), broadcasting `other`.
    public func binaryInPlace(_ op: BinaryOp, _ other: Tensor) {
        precondition(dtype == .f32, "in-place arithmetic needs an f32 tensor")
        let b = (other.dtype == .f32 ? other : other.cast(to: .f32)).broadcast(to: shape)
        let ap = storage.base.assumingMemoryBound(to: Float.self)
        let bp = b.storage.base.assumingMemoryBound(to: Float.self)
        if isContiguous && b.isContiguous && ap != bp {
            let ao = offset, bo = b.offset
            let p = (UncheckedPointer(ap), UncheckedPointer(bp))
            parallelFor(count) { r in
                let (ap, bp) = (p.0.p, p.1.p)
                for i in r { ap[ao + i] = op.apply(ap[ao + i], bp[bo + i]) }
            }
            return
        }
        // A broadcast or overlapping source is read whole before anything is written.
        let src = b.storage === storage ? b.copy() : b
        let sp = src.storage.base.assumingMemoryBound(to: Float.self)
        forEachRow(shape: shape, strides: [strides, src.strides], offsets: [offset, src.offset]) { offs, n, inner in
            for i in 0..<n {
                let d = offs[0] + i * inner[0]
                ap[d] = op.apply(ap[d], sp[offs[1] + i * inner[1]])
            }
        }
    }

    /// `where(condition, self, other)`: picks from self where condition is non-zero.
    public static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let s1 = broadcastShape(condition.shape, a.shape), let shape = broadcastShape(s1, b.shape) else {
            preconditionFailure("where: shapes do not broadcast")
        }
        let c = condition.cast(to: .f32).broadcast(to: shape).toFloats()
        let x = a.cast(to: .f32).broadcast(to: shape).toFloats()
        let y = b.cast(to: .f32).broadcast(to: shape).toFloats()
        return Tensor(shape: shape, floats: (0..<c.count).map { c[$0] != 0 ? x[$0] : y[$0] })
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.div, b) }
    public static func + (a: Tensor, b: Float) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Float) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Float) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Float) -> Tensor { a.binary(.div, b) }
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.neg) }
}

/// Lets a raw pointer cross into concurrently run closures; callers guarantee that
/// the chunks they write do not overlap.
public struct UncheckedPointer<T>: @unchecked Sendable {
    public let p: UnsafeMutablePointer<T>
    public init(_ p: UnsafeMutablePointer<T>) { self.p = p }
}
