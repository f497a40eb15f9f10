import Foundation
import NSICheck
import NSIIR
import NSIJSON
import NSIModel
import NSISource
import NSISyntax

extension LanguageServer {
    // MARK: Hover

    /// The innermost checked expression under the cursor: its type and shape (symbols for
    /// lengths known when running), an access point's names, a param's binding.
    func hover(_ params: JSONValue) throws -> JSONValue {
        let doc = try document(params), at = try offset(params, in: doc)
        guard let e = doc.expressions.filter({ $0.range.start <= at && at <= $0.range.end && $0.range.end > $0.range.start })
                                  .min(by: { $0.range.end - $0.range.start < $1.range.end - $1.range.start }) else {
            return .null
        }
        var lines = ["```nsi", doc.file.text(in: e.range).prefix(80) + ": " + e.type.description, "```"]
        if let p = e.point {
            lines.append("access point `\(p.canonical.first ?? "")`" + (p.huggingFace.isEmpty ? "" : " (Hugging Face: `\(p.huggingFace.first!)`)"))
            lines.append(p.summary)
            if !e.loopValues.isEmpty { lines.append("shown for the loop's first pass (`\(e.loopValues.joined(separator: "`, `"))`); each pass reads its own point") }
        }
        if let c = e.constant, e.type.shape == nil || e.type == .int || e.type == .float || e.type == .bool { lines.append("value known when compiling: `\(c)`") }
        if let runTime = e.isRunTimeParam { lines.append(runTime ? "param bound when the plan runs" : "param fixed when compiling") }
        if case .tensor(_, let dims) = e.type, let symbol = dims.first(where: { $0.value == nil }) {
            lines.append("`\(symbol)`: a length known only when the plan runs")
        }
        return .object([
            ("contents", .object([("kind", .string("markdown")), ("value", .string(lines.joined(separator: "\n")))])),
            ("range", doc.range(e.range)),
        ])
    }

    // MARK: Completion

    /// After `model.` (and deeper): the next parts of the model's names; after another
    /// `.`: methods; elsewhere: keywords, functions and the names defined above.
    func completion(_ params: JSONValue) throws -> JSONValue {
        let doc = try document(params), at = try offset(params, in: doc)
        let prefix = doc.linePrefix(to: at)
        var items: [JSONValue] = []
        func item(_ label: String, _ kind: Int, _ detail: String, _ documentation: String? = nil) {
            var fields: [(key: String, value: JSONValue)] = [("label", .string(label)), ("kind", .int(Int64(kind))), ("detail", .string(detail))]
            if let documentation { fields.append(("documentation", .string(documentation))) }
            items.append(.object(fields))
        }
        if let path = Self.modelPath(before: prefix) {
            guard let signature = signature(for: doc.file.path) else { return .object([("isIncomplete", .bool(false)), ("items", .array([]))]) }
            for (name, kind, detail) in Self.nextParts(of: path, in: signature) { item(name, kind, detail) }
        } else if Self.endsWithMemberAccess(prefix) {
            for name in Builtin.methodNames {
                item(name, 2, "method", Builtin.method(name)?.summary)
            }
            for (name, what) in [("shape", "the dimensions, compile-time ints"), ("T", "the transpose of a 2-d tensor"),
                                 ("grad", "the gradient at an access point, after backward"), ("values", "a topk's values"),
                                 ("indices", "a topk's indices"), ("ids", "result.ids"), ("text", "result.text"), ("weight", "a module's weight")] {
                item(name, 10, what)
            }
        } else {
            for k in Keyword.allCases.map(\.rawValue) + ["seed"] { item(k, 14, "keyword") }
            for name in Builtin.functionNames { item(name, 3, "function", Builtin.function(name)?.summary) }
            var seen = Set<String>()
            for (name, range, what) in doc.names().definitions where range.start < at && seen.insert(name).inserted {
                item(name, 6, what)
            }
        }
        return .object([("isIncomplete", .bool(false)), ("items", .array(items))])
    }

    /// `model.layers[3].attn.` before the cursor, as dotted parts (`layers.3.attn`) and the
    /// partial name being typed; nil when the cursor is not in a model path.
    static func modelPath(before text: String) -> [String]? {
        let chars = Array(text)
        var i = chars.count
        while i > 0, chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_" { i -= 1 }
        guard i > 0, chars[i - 1] == "." else { return nil }
        // Walk back over `.name` and `[int]` steps to `model`.
        var parts: [String] = []
        var j = i - 1
        while j > 0 {
            if chars[j - 1] == "]" {
                var k = j - 2
                while k >= 0, chars[k] != "[" { k -= 1 }
                guard k >= 0 else { return nil }
                // A layer index that is not a literal (`model.layers[l].`): every layer has the same names.
                let index = String(chars[(k + 1)..<(j - 1)]).trimmingCharacters(in: .whitespaces)
                parts.insert(Int(index) == nil ? "0" : index, at: 0)
                j = k
                continue
            }
            var k = j
            while k > 0, chars[k - 1].isLetter || chars[k - 1].isNumber || chars[k - 1] == "_" { k -= 1 }
            let name = String(chars[k..<j])
            guard !name.isEmpty else { return nil }
            if name == "model", k == 0 || !(chars[k - 1] == "." || chars[k - 1].isLetter || chars[k - 1].isNumber) { return parts }
            parts.insert(name, at: 0)
            guard k > 0, chars[k - 1] == "." else { return nil }
            j = k - 1
        }
        return nil
    }

    static func endsWithMemberAccess(_ text: String) -> Bool {
        let trimmed = text.reversed().drop { $0.isLetter || $0.isNumber || $0 == "_" }
        return trimmed.first == "."
    }

    /// The names that continue a dotted path, from the signature: points, modules,
    /// callables, weights and the model's constants. A layer index continues as `layers`.
    static func nextParts(of path: [String], in signature: ModelSignature) -> [(String, Int, String)] {
        let prefix = path.isEmpty ? "" : path.joined(separator: ".") + "."
        var out: [String: (Int, String)] = [:]
        func offer(_ name: String, _ kind: Int, _ detail: String) {
            guard name.hasPrefix(prefix) else { return }
            let rest = name.dropFirst(prefix.count)
            guard let part = rest.split(separator: ".").first.map(String.init), Int(part) == nil else { return }
            let complete = !rest.contains(".")
            if out[part] == nil || complete { out[part] = complete ? (kind, detail) : (out[part]?.0 ?? 9, out[part]?.1 ?? "module") }
        }
        for p in signature.points.points {
            let shape = "[" + p.shape.map { "\($0)" }.joined(separator: ", ") + "]"
            for n in p.canonicalNames + p.hfNames { offer(n, 5, "access point " + shape) }
        }
        for m in signature.points.modules { for n in [m.canonicalName, m.hfName] { offer(n, 9, "module (skippable)") } }
        for c in signature.callables { for n in [c.name, c.hfName] { offer(n, 2, "callable module") } }
        for w in signature.weights { offer(w.name, 5, "weight [" + w.shape.map(String.init).joined(separator: ", ") + "]") }
        if path.isEmpty {
            for (d, v) in signature.dimensions { out[d] = (21, "constant \(v)") }
            out["attention_mask"] = (5, "the invoke's padding mask, i64[rows, T]")
        }
        return out.map { ($0.key, $0.value.0, $0.value.1) }.sorted { $0.0 < $1.0 }
    }

    // MARK: Names

    /// The name under the cursor, at a use or a definition.
    func name(at offset: Int, in doc: Document) -> String? {
        let (defs, uses) = doc.names()
        if let d = defs.first(where: { $0.1.start <= offset && offset <= $0.1.end }) { return d.0 }
        return uses.first(where: { $0.1.start <= offset && offset <= $0.1.end })?.0
    }

    /// The definition a use refers to: the last one of that name that starts before it
    /// (a `let` in a block is visible after it, as the scopes of docs/language.md say).
    func definition(_ params: JSONValue) throws -> JSONValue {
        let doc = try document(params), at = try offset(params, in: doc)
        guard let name = name(at: at, in: doc) else { return .null }
        let defs = doc.names().definitions.filter { $0.0 == name }
        guard let d = defs.last(where: { $0.1.start <= at }) ?? defs.first else { return .null }
        return .object([("uri", .string(doc.uri)), ("range", doc.range(d.1))])
    }

    func references(_ params: JSONValue) throws -> JSONValue {
        let doc = try document(params), at = try offset(params, in: doc)
        guard let name = name(at: at, in: doc) else { return .array([]) }
        let (defs, uses) = doc.names()
        let includeDeclaration = params["context"]?["includeDeclaration"]?.boolValue ?? true
        var ranges = uses.filter { $0.0 == name }.map(\.1)
        if includeDeclaration { ranges += defs.filter { $0.0 == name }.map(\.1) }
        return .array(ranges.sorted { $0.start < $1.start }.map { .object([("uri", .string(doc.uri)), ("range", doc.range($0))]) })
    }

    // MARK: Symbols, formatting, fixes

    /// Params, top-level names, blocks and their invokes and steps.
    func symbols(_ params: JSONValue) throws -> JSONValue {
        let doc = try document(params)
        func symbol(_ name: String, _ kind: Int, _ range: SourceRange, _ selection: SourceRange, _ children: [JSONValue] = []) -> JSONValue {
            .object([("name", .string(name)), ("kind", .int(Int64(kind))), ("range", doc.range(range)),
                     ("selectionRange", doc.range(selection)), ("children", .array(children))])
        }
        func headline(_ s: Stmt) -> String {
            let line = doc.file.text(in: SourceRange(start: s.range.start, end: min(s.range.end, doc.file.bytes.count)))
            let first = line.split(separator: "{", maxSplits: 1).first.map(String.init) ?? line
            return first.trimmingCharacters(in: .whitespacesAndNewlines).prefix(60).description
        }
        func convert(_ s: Stmt) -> JSONValue? {
            switch s.kind {
            case .param(let p): return symbol(p.name.name, 13, s.range, p.name.range)
            case .binding(let b): return symbol(b.name.name, b.kind == .save ? 8 : 13, s.range, b.name.range)
            case .trace, .generate, .invoke, .step, .eachStep, .forLoop, .ifElse:
                let inner = s.blocks.flatMap(\.statements).compactMap(convert)
                let kind: Int
                switch s.kind {
                case .trace, .generate: kind = 12
                case .invoke: kind = 24
                default: kind = 2
                }
                return symbol(headline(s), kind, s.range, SourceRange(start: s.range.start, end: s.range.start), inner)
            default: return nil
            }
        }
        return .array(doc.parsed.script.statements.compactMap(convert))
    }

    /// The whole document as `nsi fmt` writes it; no edit for a script that does not parse.
    func formatting(_ params: JSONValue) throws -> JSONValue {
        let doc = try document(params)
        guard !doc.parsed.hasErrors else { return .array([]) }
        let formatted = ScriptFormatter.format(doc.parsed)
        guard formatted != String(decoding: doc.file.bytes, as: UTF8.self) else { return .array([]) }
        return .array([.object([("range", doc.range(SourceRange(start: 0, end: doc.file.bytes.count))), ("newText", .string(formatted))])])
    }

    /// Quick fixes: a diagnostic whose help is "did you mean `x`?" replaces its range with x.
    func codeActions(_ params: JSONValue) throws -> JSONValue {
        let doc = try document(params)
        guard let range = doc.range(from: params["range"]) else { throw RequestError.params("range") }
        var actions: [JSONValue] = []
        for d in doc.diagnostics where d.primary.range.start <= range.end && range.start <= d.primary.range.end {
            guard let help = d.help, let open = help.range(of: "did you mean `"), let close = help.range(of: "`?", range: open.upperBound..<help.endIndex) else { continue }
            let replacement = String(help[open.upperBound..<close.lowerBound])
            let edit = JSONValue.object([("range", doc.range(d.primary.range)), ("newText", .string(replacement))])
            actions.append(.object([
                ("title", .string("Change to `\(replacement)`")),
                ("kind", .string("quickfix")),
                ("diagnostics", .array([lspDiagnostic(d, in: doc)])),
                ("edit", .object([("changes", .object([(doc.uri, .array([edit]))]))])),
            ]))
        }
        return .array(actions)
    }
}
