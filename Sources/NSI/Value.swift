import NSIIR
import NSIVM

/// A run-time param's value. A `str` param takes `.string`, a `float` param `.float`
/// or `.int`, an `int` param `.int`, a `bool` param `.bool`, a tensor param `.tensor`
/// of its declared shape. A `.string` is also parsed by the param's type, as
/// `nsi run --param name=value` does (`"0.5"` for a float).
public enum Value: Sendable, Equatable {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    case tensor(TensorData)

    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.tensor(let x), .tensor(let y)): return x.dtype == y.dtype && x.shape == y.shape && x.floats == y.floats
        default: return false
        }
    }

    /// This value for param `info`, or an error that names the param, what it needs and
    /// what it got.
    func bound(to info: ParamInfo) throws(NSIError) -> RunValue {
        let fail = { (got: String) in NSIError(.param, "param `\(info.name)` needs a \(info.type) value, got \(got)") }
        switch (info.type, self) {
        case (.str, .string(let s)): return .str(s)
        case (.int, .int(let i)): return .int(i)
        case (.float, .float(let f)): return .float(f)
        case (.float, .int(let i)): return .float(Double(i))
        case (.bool, .bool(let b)): return .bool(b)
        case (.int, .string(let s)):
            guard let i = Int(s) else { throw fail("\"\(s)\"") }
            return .int(i)
        case (.float, .string(let s)):
            guard let f = Double(s) else { throw fail("\"\(s)\"") }
            return .float(f)
        case (.bool, .string(let s)):
            guard s == "true" || s == "false" else { throw fail("\"\(s)\"") }
            return .bool(s == "true")
        case (.tensor(_, let dims), .tensor(let t)):
            guard dims.count == t.shape.count, zip(dims, t.shape).allSatisfy({ $0.value == nil || $0.value == $1 }) else {
                throw NSIError(.param, "param `\(info.name)` needs shape \(dims.described), got \(t)")
            }
            return .tensor(t.tensor.cast(to: .f32))
        default:
            throw fail(kindName)
        }
    }

    var kindName: String {
        switch self {
        case .int(let i): return "int \(i)"
        case .float(let f): return "float \(f)"
        case .bool(let b): return "bool \(b)"
        case .string(let s): return "string \"\(s)\""
        case .tensor(let t): return "tensor \(t)"
        }
    }
}
