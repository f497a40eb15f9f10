import Foundation
import NSI
import NSIJSON

/// A JSON value of a params object: what nsi_run and nsi_compile accept (read by the
/// project's one JSON reader).
enum JSONParam {
    case bool(Bool), int(Int), double(Double), string(String), array([JSONParam])

    init(_ json: JSONValue) throws(NSIError) {
        switch json {
        case .bool(let b): self = .bool(b)
        case .int(let i):
            guard let n = Int(exactly: i) else { throw NSIError(.param, "the integer \(i) is out of range") }
            self = .int(n)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items):
            var out: [JSONParam] = []
            for item in items { out.append(try JSONParam(item)) }
            self = .array(out)
        case .null, .object: throw NSIError(.param, "a param value must be a string, number, boolean or array of numbers")
        }
    }

    /// Parses `{"name": value, ...}`; NULL or empty text is no params.
    static func object(_ text: UnsafePointer<CChar>?) throws(NSIError) -> [String: JSONParam] {
        guard let text, text.pointee != 0 else { return [:] }
        let json: JSONValue
        do {
            json = try JSONValue.parse(String(cString: text))
        } catch {
            throw NSIError(.param, "params must be a JSON object of name to value, such as {\"prompt\": \"Hello\", \"scale\": 0.5}: \(error)")
        }
        guard let members = json.objectValue else {
            throw NSIError(.param, "params must be a JSON object of name to value, such as {\"prompt\": \"Hello\", \"scale\": 0.5}, not \(json.kindName)")
        }
        var out: [String: JSONParam] = [:]
        for (name, value) in members { out[name] = try JSONParam(value) }
        return out
    }

    /// A run-time value: nested arrays of numbers become a float32 tensor.
    func value(_ name: String) throws(NSIError) -> Value {
        switch self {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .float(d)
        case .string(let s): return .string(s)
        case .array:
            // The shape follows the first element at each depth; every other must agree.
            var shape: [Int] = []
            var probe = self
            while case .array(let items) = probe {
                shape.append(items.count)
                guard let first = items.first else { break }
                probe = first
            }
            var floats: [Float] = []
            try fill(depth: 0, shape: shape, into: &floats, name: name)
            return .tensor(try TensorData(shape: shape, floats: floats))
        }
    }

    private func fill(depth: Int, shape: [Int], into floats: inout [Float], name: String) throws(NSIError) {
        let ragged = NSIError(.param, "param `\(name)`: the nested arrays are ragged (shape \(shape) from the first elements)")
        switch self {
        case .array(let items):
            guard depth < shape.count, items.count == shape[depth] else { throw ragged }
            for item in items { try item.fill(depth: depth + 1, shape: shape, into: &floats, name: name) }
        case .int(let i):
            guard depth == shape.count else { throw ragged }
            floats.append(Float(i))
        case .double(let d):
            guard depth == shape.count else { throw ragged }
            floats.append(Float(d))
        case .bool, .string:
            throw NSIError(.param, "param `\(name)`: a tensor value holds numbers only")
        }
    }

    /// The text a compile-time param is given as (what `nsi compile --param` takes).
    func text(_ name: String) throws(NSIError) -> String {
        switch self {
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .array: throw NSIError(.param, "compile-time param `\(name)` cannot be an array")
        }
    }
}
