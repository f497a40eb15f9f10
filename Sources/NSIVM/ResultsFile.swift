import Foundation
import NSIIR
import NSIJSON
import NSITensor

/// Writes a run's results: every saved tensor under its key in a safetensors file (a
/// topk pair as `key.values` and `key.indices`, numbers as rank-0 tensors), and a JSON
/// sidecar with the prompts, token ids, generated text, strings, shapes and timings.
public enum ResultsFile {
    public static func tensors(_ results: RunResults) -> [(String, Tensor)] {
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
