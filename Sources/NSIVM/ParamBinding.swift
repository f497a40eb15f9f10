import NSIIR
import NSITensor

extension RunValue {
    /// The rule for binding a value to a run-time param, defined once for the VM, the
    /// embedding API and the server: a `str` param takes a string; `int`, `float` and
    /// `bool` their own kind (a float also an int) or a string that parses as one, as
    /// `nsi run --param name=value` gives them; a tensor param a tensor of its declared
    /// shape (symbolic dimensions take any size), or nested lists of numbers as text
    /// (`[[1, 2, 3]]`), converted to the declared dtype (an integer tensor takes whole
    /// numbers only). The error names the param, what it needs and what it got.
    public func bound(to info: ParamInfo) throws(VMError) -> RunValue {
        switch (info.type, self) {
        case (.str, .str), (.int, .int), (.bool, .bool), (.float, .float): return self
        case (.float, .int(let i)): return .float(Double(i))
        case (.int, .str(let text)): if let i = Int(text) { return .int(i) }
        case (.float, .str(let text)): if let f = Double(text) { return .float(f) }
        case (.bool, .str(let text)): if text == "true" || text == "false" { return .bool(text == "true") }
        case (.tensor(let dtype, let dims), .tensor(let t)):
            guard dims.count == t.rank, zip(dims, t.shape).allSatisfy({ $0.value == nil || $0.value == $1 }) else {
                throw VMError(.param, "param `\(info.name)` needs shape \(dims.described), got \(describeShape(t.shape))", span: info.range)
            }
            if dtype != .f32, t.dtype == .f32, t.toFloats().contains(where: { $0 != $0.rounded() }) {
                throw VMError(.param, "param `\(info.name)` needs whole numbers (\(info.type)), got an f32 tensor with fractions", span: info.range)
            }
            return .tensor(t.cast(to: dtype == .f32 ? .f32 : .i64))
        case (.tensor(let dtype, _), .str(let text)):
            guard let (shape, values) = parseTensorText(text) else {
                throw VMError(.param, "param `\(info.name)` needs \(info.type) written as nested lists ([[1, 2], [3, 4]]), got \(described)", span: info.range)
            }
            let t = dtype == .f32 ? Tensor(shape: shape, floats: values.map(Float.init))
                                  : Tensor(shape: shape, int64s: values.map { $0 == $0.rounded() && abs($0) < 9.2e18 ? Int64($0) : Int64.min })
            if dtype != .f32, values.contains(where: { $0 != $0.rounded() || abs($0) >= 9.2e18 }) {
                throw VMError(.param, "param `\(info.name)` needs whole numbers (\(info.type)), got \(text.prefix(40))", span: info.range)
            }
            return try RunValue.tensor(t).bound(to: info)
        default: break
        }
        throw VMError(.param, "param `\(info.name)` needs a \(info.type) value, got \(described)", span: info.range)
    }

    /// What a value is, for messages: `string "abc"`, `int 3`, `f32[2, 3] tensor`.
    var described: String {
        switch self {
        case .int(let i): return "int \(i)"
        case .float(let f): return "float \(f)"
        case .bool(let b): return "bool \(b)"
        case .str(let s): return "string \"\(s)\""
        case .strings(let s): return "\(s.count) strings"
        case .tensor(let t): return "\(t.dtype.rawValue)\(describeShape(t.shape)) tensor"
        case .topk: return "a topk pair"
        }
    }
}
