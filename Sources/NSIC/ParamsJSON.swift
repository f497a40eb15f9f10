import Foundation
import NSI

/// A JSON value of a params object: what nsi_run and nsi_compile accept.
enum JSONParam: Decodable {
    case bool(Bool), int(Int), double(Double), string(String), array([JSONParam])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONParam].self) { self = .array(a) }
        else { throw NSIError(.param, "a param value must be a string, number, boolean or array of numbers") }
    }

    /// Parses `{"name": value, ...}`; NULL or empty text is no params.
    static func object(_ text: UnsafePointer<CChar>?) throws(NSIError) -> [String: JSONParam] {
        guard let text, text.pointee != 0 else { return [:] }
        do {
            return try JSONDecoder().decode([String: JSONParam].self, from: Data(String(cString: text).utf8))
        } catch let e as NSIError {
            throw e
        } catch {
            throw NSIError(.param, "params must be a JSON object of name to value, such as {\"prompt\": \"Hello\", \"scale\": 0.5}: \(describe(error))")
        }
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

    private static func describe(_ error: any Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c):
                return c.debugDescription
            @unknown default: break
            }
        }
        return "\(error)"
    }
}
