/// Element types. Compute happens in `f32`; `i32`/`i64` hold ids and indices;
/// `f16`/`bf16`/`u8`/`bool` exist as storage types in files and are decoded on load.
public enum DType: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, i32, i64, u8, bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i64: return 8
        case .u8, .bool: return 1
        }
    }

    /// The name safetensors uses in its header.
    public var safetensorsName: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .i32: return "I32"
        case .i64: return "I64"
        case .u8: return "U8"
        case .bool: return "BOOL"
        }
    }

    public init?(safetensorsName: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else { return nil }
        self = match
    }

    public var isFloatingPoint: Bool { self == .f32 || self == .f16 || self == .bf16 }
    public var isInteger: Bool { self == .i32 || self == .i64 || self == .u8 }
}

public struct TensorError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Formats a shape the way diagnostics print it: `[1, 576]`.
public func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
