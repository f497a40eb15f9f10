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

    /// This value for param `info`, by the VM's binding rule (`RunValue.bound(to:)`).
    func bound(to info: ParamInfo) throws(NSIError) -> RunValue {
        let value: RunValue
        switch self {
        case .int(let i): value = .int(i)
        case .float(let f): value = .float(f)
        case .bool(let b): value = .bool(b)
        case .string(let s): value = .str(s)
        case .tensor(let t): value = .tensor(t.tensor)
        }
        do {
            return try value.bound(to: info)
        } catch {
            throw NSIError(.param, error.message)
        }
    }
}
