import Foundation

/// One draw of Tests/Fixtures/random/reference.json, written by the numpy recipe in
/// Samples/nnsight/seeded_random.py.
public struct RandomReferenceCase: Sendable {
    public let fn: String
    public let shape: [Int]
    public let seed: Int64
    public let low: Int
    public let high: Int
    /// Row-major.
    public let values: [Double]
}

struct RandomReferenceError: Error, CustomStringConvertible { let description: String }

extension Fixtures {
    /// The reference draws, and the seeds of a script's first draws given no seed.
    public static func randomReference() throws -> (cases: [RandomReferenceCase], defaults: [Int64]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("random/reference.json")))
        guard let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = doc["cases"] as? [[String: Any]], let defaults = doc["default_seeds"] as? [NSNumber] else {
            throw RandomReferenceError(description: "random/reference.json: no cases or default_seeds")
        }
        func flatten(_ v: [Any]) -> [Double] {
            v.flatMap { item -> [Double] in
                if let list = item as? [Any] { return flatten(list) }
                return [(item as? NSNumber)?.doubleValue ?? .nan]
            }
        }
        let cases = try list.map { c in
            guard let fn = c["fn"] as? String, let shape = c["shape"] as? [Int], let seed = c["seed"] as? NSNumber,
                  let values = c["values"] as? [Any] else { throw RandomReferenceError(description: "random/reference.json: a malformed case") }
            return RandomReferenceCase(fn: fn, shape: shape, seed: seed.int64Value, low: c["low"] as? Int ?? 0,
                                       high: c["high"] as? Int ?? 0, values: flatten(values))
        }
        return (cases, defaults.map(\.int64Value))
    }
}
