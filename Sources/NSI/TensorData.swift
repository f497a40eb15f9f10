import NSITensor

/// The element type of a tensor result.
public enum DType: String, Sendable, CaseIterable {
    case f32, f16, bf16, i32, i64, u8

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i64: return 8
        case .u8: return 1
        }
    }

    init(_ d: NSITensor.DType) {
        switch d {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .i32: self = .i32
        case .i64: self = .i64
        case .u8, .bool: self = .u8
        }
    }
}

/// A tensor as a host sees it: element type, shape and contiguous row-major data. It is
/// immutable and shares its bytes with the run's results (no copy is made to hand it out).
public struct TensorData: @unchecked Sendable, CustomStringConvertible {
    /// Contiguous, never bool (bools are u8 0/1, as `nsi run` writes them).
    let tensor: NSITensor.Tensor

    init(_ t: NSITensor.Tensor) {
        tensor = t.dtype == .bool ? t.cast(to: .u8) : t.contiguous()
    }

    /// A float32 tensor from values in row-major order (a tensor param's value).
    public init(shape: [Int], floats: [Float]) throws(NSIError) {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == floats.count else {
            throw NSIError(.param, "\(floats.count) values do not fill shape \(describeShape(shape))")
        }
        tensor = NSITensor.Tensor(shape: shape, floats: floats)
    }

    public var dtype: DType { DType(tensor.dtype) }
    public var shape: [Int] { tensor.shape }
    /// Number of elements.
    public var count: Int { tensor.count }
    public var byteCount: Int { tensor.count * tensor.dtype.size }

    /// The contiguous row-major bytes, valid only inside `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: baseAddress, count: byteCount))
    }

    /// The first byte: valid while this value (or the results holding it) is alive.
    /// Package access: the C ABI hands it out; Swift hosts use `withUnsafeBytes`.
    package var baseAddress: UnsafeRawPointer {
        UnsafeRawPointer(tensor.storage.base) + tensor.offset * tensor.dtype.size
    }

    /// The values as floats (integers converted), in row-major order.
    public var floats: [Float] { tensor.toFloats() }
    /// The values as integers (floats truncated), in row-major order.
    public var ints: [Int] { tensor.toInts() }

    public var description: String { "\(dtype.rawValue)\(describeShape(shape))" }
}
