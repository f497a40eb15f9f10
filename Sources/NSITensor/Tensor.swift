/// An n-dimensional array: a view (shape, strides and offset, in elements) over
/// shared storage. Like a PyTorch tensor it has reference semantics for its data:
/// views share bytes, and in-place writes through any view are seen by all.
public struct Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let dtype: DType
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int

    public init(storage: TensorStorage, dtype: DType, shape: [Int], strides: [Int], offset: Int = 0) {
        precondition(shape.count == strides.count, "shape and strides differ in rank")
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous tensor of zeros.
    public init(zeros shape: [Int], dtype: DType = .f32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        let count = shape.reduce(1, *)
        self.init(storage: TensorStorage(byteCount: count * dtype.size), dtype: dtype,
                  shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    /// A tensor whose elements are not set: only for an output that is written whole
    /// next (a product with beta 0).
    init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.init(storage: TensorStorage(byteCount: count * 4, zeroed: false), dtype: .f32,
                  shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    /// Zeros on fresh pages (see `TensorStorage.init(byteCount:fresh:)`): for a large
    /// tensor of which a few slices are written.
    public init(sparseZeros shape: [Int], dtype: DType = .f32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        let count = shape.reduce(1, *)
        self.init(storage: TensorStorage(byteCount: count * dtype.size, fresh: true), dtype: dtype,
                  shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "\(floats.count) values for shape \(describeShape(shape))")
        self.init(zeros: shape, dtype: .f32)
        floats.withUnsafeBufferPointer { src in
            storage.base.copyMemory(from: src.baseAddress!, byteCount: floats.count * 4)
        }
    }

    public init(shape: [Int], int32s: [Int32]) {
        precondition(shape.reduce(1, *) == int32s.count, "\(int32s.count) values for shape \(describeShape(shape))")
        self.init(zeros: shape, dtype: .i32)
        int32s.withUnsafeBufferPointer { src in
            storage.base.copyMemory(from: src.baseAddress!, byteCount: int32s.count * 4)
        }
    }

    public init(shape: [Int], int64s: [Int64]) {
        precondition(shape.reduce(1, *) == int64s.count, "\(int64s.count) values for shape \(describeShape(shape))")
        self.init(zeros: shape, dtype: .i64)
        int64s.withUnsafeBufferPointer { src in
            storage.base.copyMemory(from: src.baseAddress!, byteCount: int64s.count * 8)
        }
    }

    /// A rank-0 f32 tensor.
    public init(scalar: Float) { self.init(shape: [], floats: [scalar]) }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            acc *= max(shape[i], 1)
        }
        return strides
    }

    public var rank: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }

    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Resolves a possibly negative dimension index.
    public func axis(_ dim: Int) -> Int {
        let d = dim < 0 ? dim + rank : dim
        precondition(d >= 0 && d < max(rank, 1), "dimension \(dim) out of range for rank \(rank)")
        return d
    }

    // MARK: Raw access

    /// Pointer to the first element of this view. Only meaningful with `strides`.
    public var floatPointer: UnsafeMutablePointer<Float> {
        precondition(dtype == .f32, "expected an f32 tensor, got \(dtype)")
        return storage.base.assumingMemoryBound(to: Float.self) + offset
    }

    public var int32Pointer: UnsafeMutablePointer<Int32> {
        precondition(dtype == .i32, "expected an i32 tensor, got \(dtype)")
        return storage.base.assumingMemoryBound(to: Int32.self) + offset
    }

    public var int64Pointer: UnsafeMutablePointer<Int64> {
        precondition(dtype == .i64, "expected an i64 tensor, got \(dtype)")
        return storage.base.assumingMemoryBound(to: Int64.self) + offset
    }

    /// This tensor if it is contiguous, else a contiguous copy.
    public func contiguous() -> Tensor {
        isContiguous ? self : copy()
    }

    /// A contiguous copy with fresh storage.
    public func copy() -> Tensor {
        let out = Tensor(zeros: shape, dtype: dtype)
        out.assign(self)
        return out
    }

    /// The element offsets (into storage, in elements) of every element, in logical order.
    func elementOffsets() -> [Int] {
        var result = [Int]()
        result.reserveCapacity(count)
        forEachRow(shape: shape, strides: [strides], offsets: [offset]) { offs, n, inner in
            let s = inner[0]
            for i in 0..<n { result.append(offs[0] + i * s) }
        }
        return result
    }

    /// Values in logical (row-major) order.
    public func toFloats() -> [Float] {
        switch dtype {
        case .f32:
            let p = storage.base.assumingMemoryBound(to: Float.self)
            if isContiguous { return Array(UnsafeBufferPointer(start: p + offset, count: count)) }
            return elementOffsets().map { p[$0] }
        case .i32: return toInt32s().map(Float.init)
        case .i64: return toInt64s().map(Float.init)
        default: return cast(to: .f32).toFloats()
        }
    }

    public func toInt32s() -> [Int32] {
        switch dtype {
        case .i32:
            let p = storage.base.assumingMemoryBound(to: Int32.self)
            return elementOffsets().map { p[$0] }
        case .i64: return toInt64s().map { Int32(truncatingIfNeeded: $0) }
        default: return cast(to: .i32).toInt32s()
        }
    }

    public func toInt64s() -> [Int64] {
        switch dtype {
        case .i64:
            let p = storage.base.assumingMemoryBound(to: Int64.self)
            return elementOffsets().map { p[$0] }
        case .i32: return toInt32s().map(Int64.init)
        default: return cast(to: .i64).toInt64s()
        }
    }

    /// Integer values of an index tensor, whatever its integer dtype.
    public func toInts() -> [Int] {
        switch dtype {
        case .i32: return toInt32s().map(Int.init)
        case .i64: return toInt64s().map(Int.init)
        default: return toFloats().map { Int($0) }
        }
    }

    /// The single value of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "item() of a tensor with \(count) elements")
        return toFloats()[0]
    }

    /// Converts between f32, i32, i64, u8 and bool (f16/bf16 are decoded by `Half`).
    public func cast(to target: DType) -> Tensor {
        if target == dtype { return self }
        let src = contiguous()
        if target == .f32 && (dtype == .bf16 || dtype == .f16) {
            let out = Tensor(uninitialized: shape)
            HalfGemm.widen(dtype, src.storage.base.assumingMemoryBound(to: UInt16.self) + src.offset, out.floatPointer, count)
            return out
        }
        let out = Tensor(zeros: shape, dtype: target)
        let n = count
        func read(_ i: Int) -> Double {
            switch src.dtype {
            case .f32: return Double(src.storage.base.assumingMemoryBound(to: Float.self)[src.offset + i])
            case .i32: return Double(src.storage.base.assumingMemoryBound(to: Int32.self)[src.offset + i])
            case .i64: return Double(src.storage.base.assumingMemoryBound(to: Int64.self)[src.offset + i])
            case .u8, .bool: return Double(src.storage.base.assumingMemoryBound(to: UInt8.self)[src.offset + i])
            case .f16: return Double(decodeF16(src.storage.base.assumingMemoryBound(to: UInt16.self)[src.offset + i]))
            case .bf16: return Double(decodeBF16(src.storage.base.assumingMemoryBound(to: UInt16.self)[src.offset + i]))
            }
        }
        for i in 0..<n {
            let v = read(i)
            switch target {
            case .f32: out.storage.base.assumingMemoryBound(to: Float.self)[i] = Float(v)
            case .i32: out.storage.base.assumingMemoryBound(to: Int32.self)[i] = Int32(clamping: Int64(exactly: v.rounded(.towardZero)) ?? 0)
            case .i64: out.storage.base.assumingMemoryBound(to: Int64.self)[i] = Int64(exactly: v.rounded(.towardZero)) ?? 0
            case .u8: out.storage.base.assumingMemoryBound(to: UInt8.self)[i] = UInt8(clamping: Int(v))
            case .bool: out.storage.base.assumingMemoryBound(to: UInt8.self)[i] = v != 0 ? 1 : 0
            case .f16, .bf16: preconditionFailure("f16/bf16 are storage-only types")
            }
        }
        return out
    }
}

/// Walks the rows (innermost dimension) of several same-shaped strided views at once:
/// `body(rowOffsets, rowLength, innerStrides)`. Rank 0 is one row of length 1.
@inline(__always)
func forEachRow(shape: [Int], strides: [[Int]], offsets: [Int],
                _ body: (_ offsets: [Int], _ n: Int, _ inner: [Int]) -> Void) {
    let rank = shape.count
    if shape.contains(0) { return }
    if rank == 0 {
        body(offsets, 1, strides.map { _ in 0 })
        return
    }
    let n = shape[rank - 1]
    let inner = strides.map { $0[rank - 1] }
    var index = [Int](repeating: 0, count: rank - 1)
    var offs = offsets
    let rows = shape.dropLast().reduce(1, *)
    for _ in 0..<rows {
        body(offs, n, inner)
        // Advance the odometer over the outer dimensions.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            for k in 0..<offs.count { offs[k] += strides[k][d] }
            if index[d] < shape[d] { break }
            for k in 0..<offs.count { offs[k] -= strides[k][d] * shape[d] }
            index[d] = 0
            d -= 1
        }
    }
}
