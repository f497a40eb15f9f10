import NSIJSON
import NSITensor

/// One dimension of a shape the checker knows: a number, or a symbol for a size known
/// only when the plan runs (`T` for a prompt given at run time, `S` for the key length
/// during generation).
public enum ShapeDim: Hashable, Sendable, CustomStringConvertible {
    case known(Int)
    case symbol(String)

    public var description: String {
        switch self {
        case .known(let n): return String(n)
        case .symbol(let s): return s
        }
    }

    public var value: Int? { if case .known(let n) = self { return n }; return nil }
}

/// The static type of a value.
public indirect enum ValueType: Hashable, Sendable, CustomStringConvertible {
    case int, float, bool, str
    case tensor(DType, [ShapeDim])
    /// Prompts: one string per row.
    case strings(Int)
    /// `topk` results: `.values` and `.indices`.
    case topk(values: [ShapeDim])
    /// A list literal that is not a tensor (arguments of `cat`, `stack`).
    case list([ValueType])

    public var description: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .str: return "str"
        case .tensor(let d, let s): return "\(d.rawValue)[" + s.map(\.description).joined(separator: ", ") + "]"
        case .strings(let n): return "str[\(n)]"
        case .topk(let s): return "topk pair of f32[" + s.map(\.description).joined(separator: ", ") + "]"
        case .list(let items): return "list of \(items.count)"
        }
    }

    public var shape: [ShapeDim]? {
        switch self {
        case .tensor(_, let s): return s
        case .int, .float, .bool: return []
        default: return nil
        }
    }

    public var isNumeric: Bool {
        switch self {
        case .int, .float, .bool, .tensor: return true
        default: return false
        }
    }

    /// The tensor element type a scalar or tensor computes in.
    public var elementType: DType? {
        switch self {
        case .int: return .i64
        case .float: return .f32
        case .bool: return .bool
        case .tensor(let d, _): return d
        default: return nil
        }
    }

    public var isIntegral: Bool {
        switch self {
        case .int: return true
        case .tensor(let d, _): return d == .i32 || d == .i64
        default: return false
        }
    }

    public static func f32(_ dims: [ShapeDim]) -> ValueType { .tensor(.f32, dims) }
}

extension Array where Element == ShapeDim {
    public var described: String { "[" + map(\.description).joined(separator: ", ") + "]" }
    public var allKnown: [Int]? {
        var out: [Int] = []
        for d in self { guard let v = d.value else { return nil }; out.append(v) }
        return out
    }
}

/// A value known while compiling.
public indirect enum ConstValue: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case str(String)
    case list([ConstValue])

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .float(let f): return String(f)
        case .bool(let b): return b ? "true" : "false"
        case .str(let s): return JSONValue.quote(s)
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }

    public var intValue: Int? { if case .int(let i) = self { return i }; return nil }
    public var numberValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let f): return f
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

/// NumPy broadcasting over known and symbolic dimensions: equal dimensions, or a 1.
/// A symbol and a number other than 1 do not broadcast (the plan must be valid for every
/// value the symbol can take).
public func broadcastShapes(_ a: [ShapeDim], _ b: [ShapeDim]) -> (shape: [ShapeDim]?, badAxis: Int?) {
    let r = max(a.count, b.count)
    var out: [ShapeDim] = []
    for i in 0..<r {
        let x = i < r - a.count ? ShapeDim.known(1) : a[i - (r - a.count)]
        let y = i < r - b.count ? ShapeDim.known(1) : b[i - (r - b.count)]
        if x == y || y == .known(1) { out.append(x) }
        else if x == .known(1) { out.append(y) }
        else { return (nil, i) }
    }
    return (out, nil)
}
