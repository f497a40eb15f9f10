import Foundation
import NSIIR
import NSIJSON
import NSITensor

/// Writes a run's results: every saved tensor under its key in a safetensors file (a
/// topk pair as `key.values` and `key.indices`, numbers as rank-0 tensors), and a JSON
/// sidecar with the prompts, token ids, generated text, strings, shapes and timings.
/// An indexed name saved over a full grid (`lens.0` ... `lens.29`, `grid.l.p`) is also
/// written as one tensor under its name, its index axes first.
public enum ResultsFile {
    public static func tensors(_ results: RunResults) -> [(String, Tensor)] {
        let saved = savedTensors(results)
        return saved + gathered(saved)
    }

    /// Each indexed name whose keys `name.i[.j...]` cover `0..<n` along every index axis with
    /// tensors of one shape and dtype, stacked: `[n1, n2, ..., shape]`. A name that is itself
    /// a key, or whose elements differ, is left as its keys.
    public static func gathered(_ tensors: [(String, Tensor)]) -> [(String, Tensor)] {
        var groups: [String: [([Int], Tensor)]] = [:]
        var order: [String] = []
        let keys = Set(tensors.map(\.0))
        for (key, t) in tensors {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false)
            var k = parts.count - 1
            var index: [Int] = []
            while k > 0, let i = Int(parts[k]), i >= 0, String(i) == parts[k] { index.insert(i, at: 0); k -= 1 }
            guard !index.isEmpty else { continue }
            let name = parts[0...k].joined(separator: ".")
            if groups[name] == nil { order.append(name) }
            groups[name, default: []].append((index, t))
        }
        var out: [(String, Tensor)] = []
        for name in order where !keys.contains(name) {
            let elements = groups[name]!
            let axes = elements[0].0.count
            guard elements.allSatisfy({ $0.0.count == axes }),
                  elements.allSatisfy({ $0.1.shape == elements[0].1.shape && $0.1.dtype == elements[0].1.dtype }) else { continue }
            let sizes = (0..<axes).map { a in elements.map { $0.0[a] }.max()! + 1 }
            let byIndex = Dictionary(elements.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
            guard byIndex.count == sizes.reduce(1, *) else { continue }
            // Row-major order of the grid: the last index varies fastest.
            var ordered: [Tensor] = []
            var index = [Int](repeating: 0, count: axes)
            for _ in 0..<byIndex.count {
                guard let t = byIndex[index] else { break }
                ordered.append(t)
                var a = axes - 1
                while a >= 0 { index[a] += 1; if index[a] < sizes[a] { break }; index[a] = 0; a -= 1 }
            }
            guard ordered.count == byIndex.count else { continue }
            out.append((name, Tensor.stack(ordered, dim: 0).reshape(sizes + elements[0].1.shape).contiguous()))
        }
        return out
    }

    static func savedTensors(_ results: RunResults) -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (key, v) in results.values {
            switch v {
            case .topk(let values, let indices):
                out.append(("\(key).values", values.contiguous()))
                out.append(("\(key).indices", indices.contiguous()))
            case .str, .strings:
                continue
            default:
                if let t = v.tensor { out.append((key, t.dtype == .bool ? t.cast(to: .u8) : t.contiguous())) }
            }
        }
        return out
    }

    public static func write(_ results: RunResults, to path: String, script: String, model: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try SafetensorsWriter.write(tensors(results), metadata: ["format": "pt", "producer": "nsi"], to: path)
        let sidecar = (path as NSString).deletingPathExtension + ".json"
        try Data(json(results, script: script, model: model).utf8).write(to: URL(fileURLWithPath: sidecar), options: .atomic)
    }

    public static func json(_ results: RunResults, script: String, model: String) -> String {
        let q = JSONValue.quote
        var fields: [String] = ["\"script\":\(q(script))", "\"model\":\(q(model))"]
        let blocks = results.blocks.map { b -> String in
            var f = ["\"kind\":\(q(b.kind))",
                     "\"prompts\":[" + b.prompts.map(q).joined(separator: ",") + "]",
                     "\"token_ids\":[" + b.tokenIds.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]",
                     "\"milliseconds\":" + String(format: "%.1f", b.milliseconds)]
            if let g = b.generatedIds { f.append("\"generated_ids\":[" + g.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]") }
            if let t = b.generatedText { f.append("\"generated_text\":[" + t.map(q).joined(separator: ",") + "]") }
            if let s = b.sharing {
                f.append("\"shared_prefix\":{\"token_layers_computed\":\(s.tokenLayersComputed),\"token_layers_total\":\(s.tokenLayersTotal)}")
            }
            return "{" + f.joined(separator: ",") + "}"
        }
        fields.append("\"blocks\":[\n  " + blocks.joined(separator: ",\n  ") + "]")
        let saves = results.values.map { (key, v) -> String in
            switch v {
            case .str(let s): return "\(q(key)):{\"type\":\"str\",\"value\":\(q(s))}"
            case .strings(let s): return "\(q(key)):{\"type\":\"str[\(s.count)]\",\"value\":[" + s.map(q).joined(separator: ",") + "]}"
            case .topk(let values, _):
                return "\(q(key)):{\"type\":\"topk\",\"keys\":[\(q(key + ".values")),\(q(key + ".indices"))],\"shape\":[\(values.shape.map(String.init).joined(separator: ","))]}"
            default:
                let t = v.tensor!
                return "\(q(key)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))]}"
            }
        }
        fields.append("\"saves\":{\n  " + saves.joined(separator: ",\n  ") + "}")
        fields.append("\"instructions_executed\":\(results.instructionsExecuted)")
        if results.backwardBytes > 0 { fields.append("\"backward_bytes\":\(results.backwardBytes)") }
        fields.append("\"milliseconds\":" + String(format: "%.1f", results.milliseconds))
        return "{" + fields.joined(separator: ",\n") + "}\n"
    }
}
