import Foundation
import NSIJSON
import NSITensor

/// The intervention graph as text, printed and parsed, so that a pass's test is an input
/// program and the program expected after it, with no front end and no model. One line
/// per item, in this order:
///
///     signature 3f2a…
///     param "prompt": str run = "The capital of France is"
///     param "k": int compile = 3
///     save "h": f32[1, T, 576]
///     block trace
///       invoke rows 1 prompts ["a", "b"]
///     block generate max_tokens 8 temperature 0.0 top_k 5 top_p none seed 0
///       invoke rows 1 param "prompt"
///     %0 = const 3 : int
///     %1 = read 12 : f32[1, T, 576] @ block 0 invoke 0 point 12 step 0
///     %2 = binary mul %1 %0 : f32[1, T, 576] @ block 0 invoke 0 point 12 step 0
///     %3 = save "h" %2 @ block 0 invoke 0 point 12 step 0 if %4
///
/// An instruction without `@` runs outside every block, before the passes, at step 0.
/// Names are quoted (JSON escapes); floats are written so they read back bit for bit.
/// Source spans are not written; parsed instructions get their line's number.
public enum IRText {
    public static func print(_ program: Program) -> String {
        var out = "signature \(program.signatureHash.isEmpty ? "none" : program.signatureHash)\n"
        for p in program.params {
            out += "param \(quote(p.name)): \(type(p.type)) \(p.binding == .compileTime ? "compile" : "run")"
            if let v = p.value { out += " = \(const(v))" }
            if let t = p.tensorDefault { out += " tensor \(ints(t.shape)) \(floats(t.data))" }
            out += "\n"
        }
        for s in program.saves { out += "save \(quote(s.key)): \(type(s.type))\n" }
        for b in program.blocks {
            switch b.kind {
            case .trace: out += "block trace\n"
            case .generate(let o):
                out += "block generate max_tokens \(o.maxTokens) temperature \(o.temperature) top_k \(o.topK.map(String.init) ?? "none")"
                    + " top_p \(o.topP.map { "\($0)" } ?? "none") seed \(o.seed)\n"
            }
            for inv in b.invokes {
                out += "  invoke rows \(inv.rows)"
                if let p = inv.prompts { out += " prompts [" + p.map(quote).joined(separator: ", ") + "]" }
                if let n = inv.promptParam { out += " param \(quote(n))" }
                out += "\n"
            }
        }
        for ins in program.instructions {
            out += "\(ins.id) = \(op(ins.op))"
            if let t = ins.type { out += " : \(type(t))" }
            out += anchor(ins.anchor) + "\n"
        }
        return out
    }

    /// Parses what `print` writes; an error names the line and what was expected.
    public static func parse(_ text: String) throws(IRTextError) -> Program {
        var program = Program(params: [], blocks: [], instructions: [], saves: [], signatureHash: "")
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var s = Scanner(text: line, line: n + 1)
            try s.item(into: &program)
        }
        return program
    }

    // MARK: Printing

    static func quote(_ s: String) -> String { JSONValue.quote(s) }
    static func ints(_ v: [Int]) -> String { "[" + v.map(String.init).joined(separator: ", ") + "]" }
    static func floats(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
    static func dims(_ d: [ShapeDim]) -> String { "[" + d.map(\.description).joined(separator: ", ") + "]" }

    static func type(_ t: ValueType) -> String {
        switch t {
        case .int, .float, .bool, .str, .tensor, .strings: return t.description
        case .topk(let s): return "topk" + dims(s)
        case .list(let items): return "list(" + items.map(type).joined(separator: ", ") + ")"
        }
    }

    static func const(_ c: ConstValue) -> String { c.description }

    static func index(_ items: [IndexItem]) -> String {
        "[" + items.map { item -> String in
            switch item {
            case .at(let v): return v.description
            case .gather(let v): return "gather \(v)"
            case .slice(let a, let b, let c):
                return (a?.description ?? "") + ":" + (b?.description ?? "") + (c.map { ":\($0)" } ?? "")
            }
        }.joined(separator: ", ") + "]"
    }

    static func op(_ op: Op) -> String {
        let name = op.traits.name
        switch op {
        case .constant(let c): return "\(name) \(const(c))"
        case .tensorConstant(let shape, let data): return "\(name) \(ints(shape)) \(floats(data))"
        case .param(let n): return "\(name) \(quote(n))"
        case .readPoint(let p): return "\(name) \(p)"
        case .tokens(let a), .topkValues(let a), .topkIndices(let a), .clone(let a), .detach(let a), .backward(let a), .prompt(let a), .nonzero(let a):
            return "\(name) \(a)"
        case .resultIds, .resultText, .attentionMask: return name
        case .unary(let f, let a): return "\(name) \(f.rawValue) \(a)"
        case .binary(let f, let a, let b): return "\(name) \(f.rawValue) \(a) \(b)"
        case .index(let a, let items): return "\(name) \(a) \(index(items))"
        case .reduce(let f, let a, let d, let keep):
            return "\(name) \(f.rawValue) \(a) dim \(d.map(String.init) ?? "none")" + (keep ? " keepdim" : "")
        case .softmax(let a, let d, let log): return "\(name) \(a) dim \(d)" + (log ? " log" : "")
        case .topk(let a, let k, let d): return "\(name) \(a) k \(k) dim \(d)"
        case .reshape(let a, let shape): return "\(name) \(a) \(dims(shape))"
        case .transpose(let a, let x, let y): return "\(name) \(a) \(x) \(y)"
        case .unsqueeze(let a, let d): return "\(name) \(a) \(d)"
        case .squeeze(let a, let d): return "\(name) \(a) \(d.map(String.init) ?? "none")"
        case .cast(let a, let t): return "\(name) \(a) \(t.rawValue)"
        case .cat(let parts, let d), .stack(let parts, let d):
            return "\(name) [" + parts.map(\.description).joined(separator: ", ") + "] dim \(d)"
        case .select(let c, let a, let b): return "\(name) \(c) \(a) \(b)"
        case .cosine(let a, let b, let d): return "\(name) \(a) \(b) dim \(d)"
        case .gatherAlong(let a, let d, let i): return "\(name) \(a) dim \(d) \(i)"
        case .fill(let shape, let v): return "\(name) \(dims(shape)) \(v)"
        case .fillLike(let a, let v): return "\(name) \(a) \(v)"
        case .random(let shape, let d, let seed):
            switch d {
            case .normal: return "\(name) \(dims(shape)) normal seed \(seed)"
            case .uniform: return "\(name) \(dims(shape)) uniform seed \(seed)"
            case .integers(let lo, let hi): return "\(name) \(dims(shape)) integers \(lo) \(hi) seed \(seed)"
            }
        case .callModule(let m, let a): return "\(name) \(quote(m)) \(a)"
        case .weight(let w): return "\(name) \(quote(w))"
        case .write(let p, let items, let fn, let v): return "\(name) \(p) \(index(items)) \(fn.rawValue) \(v)"
        case .update(let a, let items, let fn, let v): return "\(name) \(a) \(index(items)) \(fn.rawValue) \(v)"
        case .save(let key, let a): return "\(name) \(quote(key)) \(a)"
        case .skip(let m): return "\(name) \(m)"
        }
    }

    static func anchor(_ a: Anchor) -> String {
        if a.block < 0 && a.invoke == nil && a.phase == .before && a.steps == .prompt && a.guardValue == nil { return "" }
        var out = " @ block \(a.block)"
        if let i = a.invoke { out += " invoke \(i)" }
        switch a.phase {
        case .before: out += " before"
        case .after: out += " after"
        case .point(let p): out += " point \(p)"
        case .grad(let p): out += " grad \(p)"
        }
        switch a.steps {
        case .only(let s): out += " step \(s)"
        case .range(let lo, let hi): out += " steps \(lo)" + (hi.map { " ..< \($0)" } ?? " ...")
        }
        if let g = a.guardValue { out += " if \(g)" }
        return out
    }
}

/// A line of IR text that does not parse: where, and what was expected.
public struct IRTextError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// Reads one line of IR text, token by token.
private struct Scanner {
    let chars: [Character]
    var at = 0
    let line: Int

    init(text: String, line: Int) {
        chars = Array(text)
        self.line = line
    }

    func fail(_ message: String) -> IRTextError {
        IRTextError(line: line, message: message + (at < chars.count ? " at column \(at + 1) (`\(String(chars[at...]).prefix(20))`)" : " at the end of the line"))
    }

    mutating func skipSpaces() { while at < chars.count, chars[at] == " " || chars[at] == "\t" { at += 1 } }

    var atEnd: Bool { mutating get { skipSpaces(); return at >= chars.count } }

    mutating func peek() -> Character? { skipSpaces(); return at < chars.count ? chars[at] : nil }

    /// A word: letters, digits and `_ . - +` (numbers, names, dtypes).
    mutating func word(_ what: String = "a word") throws(IRTextError) -> String {
        skipSpaces()
        let start = at
        while at < chars.count, chars[at].isLetter || chars[at].isNumber || "_.-+".contains(chars[at]) { at += 1 }
        guard at > start else { throw fail("expected \(what)") }
        return String(chars[start..<at])
    }

    mutating func accept(_ s: String) -> Bool {
        skipSpaces()
        let want = Array(s)
        guard at + want.count <= chars.count, Array(chars[at..<(at + want.count)]) == want else { return false }
        // A keyword must end where a word ends.
        if let last = want.last, last.isLetter, at + want.count < chars.count, chars[at + want.count].isLetter || chars[at + want.count] == "_" { return false }
        at += want.count
        return true
    }

    mutating func expect(_ s: String) throws(IRTextError) {
        guard accept(s) else { throw fail("expected `\(s)`") }
    }

    mutating func int() throws(IRTextError) -> Int {
        let w = try word("an integer")
        guard let v = Int(w) else { throw fail("expected an integer, got `\(w)`") }
        return v
    }

    mutating func double() throws(IRTextError) -> Double {
        let w = try word("a number")
        guard let v = Double(w) else { throw fail("expected a number, got `\(w)`") }
        return v
    }

    /// An f32, read directly (not through a Double, which could round twice).
    mutating func float() throws(IRTextError) -> Float {
        let w = try word("a number")
        guard let v = Float(w) else { throw fail("expected a number, got `\(w)`") }
        return v
    }

    mutating func optionalInt() throws(IRTextError) -> Int? { accept("none") ? nil : try int() }

    mutating func string() throws(IRTextError) -> String {
        skipSpaces()
        guard at < chars.count, chars[at] == "\"" else { throw fail("expected a quoted string") }
        var end = at + 1
        while end < chars.count, chars[end] != "\"" { end += chars[end] == "\\" ? 2 : 1 }
        guard end < chars.count else { throw fail("unterminated string") }
        let literal = String(chars[at...end])
        guard case .string(let s)? = try? JSONValue.parse(Data(literal.utf8)) else { throw fail("malformed string \(literal)") }
        at = end + 1
        return s
    }

    mutating func value() throws(IRTextError) -> ValueID {
        skipSpaces()
        guard accept("%") else { throw fail("expected a value `%n`") }
        return ValueID(try int())
    }

    mutating func list<T>(_ item: (inout Scanner) throws(IRTextError) -> T) throws(IRTextError) -> [T] {
        try expect("[")
        var out: [T] = []
        if accept("]") { return out }
        repeat { out.append(try item(&self)) } while accept(",")
        try expect("]")
        return out
    }

    mutating func dim() throws(IRTextError) -> ShapeDim {
        let w = try word()
        if let n = Int(w) { return .known(n) }
        return .symbol(w)
    }

    mutating func type() throws(IRTextError) -> ValueType {
        let w = try word()
        switch w {
        case "int": return .int
        case "float": return .float
        case "bool":
            if peek() == "[" { return .tensor(.bool, try list { (s: inout Scanner) throws(IRTextError) in try s.dim() }) }
            return .bool
        case "str":
            if peek() == "[" { return .strings(try list { (s: inout Scanner) throws(IRTextError) in try s.int() }.first ?? 0) }
            return .str
        case "topk": return .topk(values: try list { (s: inout Scanner) throws(IRTextError) in try s.dim() })
        case "list":
            try expect("(")
            var items: [ValueType] = []
            if !accept(")") {
                repeat { items.append(try type()) } while accept(",")
                try expect(")")
            }
            return .list(items)
        default:
            guard let d = DType(rawValue: w) else { throw fail("unknown type `\(w)`") }
            return .tensor(d, try list { (s: inout Scanner) throws(IRTextError) in try s.dim() })
        }
    }

    mutating func const() throws(IRTextError) -> ConstValue {
        switch peek() {
        case "\"": return .str(try string())
        case "[": return .list(try list { (s: inout Scanner) throws(IRTextError) in try s.const() })
        default:
            let w = try word()
            if w == "true" { return .bool(true) }
            if w == "false" { return .bool(false) }
            if let i = Int(w) { return .int(i) }
            if let f = Double(w) { return .float(f) }
            throw fail("expected a constant, got `\(w)`")
        }
    }

    mutating func code<T: RawRepresentable>(_: T.Type) throws(IRTextError) -> T where T.RawValue == String {
        let w = try word()
        guard let v = T(rawValue: w) else { throw fail("unknown \(T.self) `\(w)`") }
        return v
    }

    mutating func indexItems() throws(IRTextError) -> [IndexItem] {
        try list { (s: inout Scanner) throws(IRTextError) -> IndexItem in
            if s.accept("gather") { return .gather(try s.value()) }
            func bound(_ s: inout Scanner) throws(IRTextError) -> ValueID? { s.peek() == "%" ? try s.value() : nil }
            let a = try bound(&s)
            guard s.accept(":") else {
                guard let a else { throw s.fail("expected an index item") }
                return .at(a)
            }
            let b = try bound(&s)
            let c: ValueID? = s.accept(":") ? try bound(&s) : nil
            return .slice(a, b, c)
        }
    }

    mutating func item(into program: inout Program) throws(IRTextError) {
        if accept("signature") {
            let w = try word()
            program.signatureHash = w == "none" ? "" : w
        } else if accept("param") {
            let name = try string()
            try expect(":")
            let t = try type()
            let binding: ParamBinding
            if accept("compile") { binding = .compileTime } else {
                try expect("run")
                binding = .runTime
            }
            let value: ConstValue? = accept("=") ? try const() : nil
            var tensor: (shape: [Int], data: [Float])?
            if accept("tensor") {
                let shape = try list { (s: inout Scanner) throws(IRTextError) in try s.int() }
                let data = try list { (s: inout Scanner) throws(IRTextError) in try s.float() }
                tensor = (shape, data)
            }
            program.params.append(ParamInfo(name: name, type: t, binding: binding, value: value, tensorDefault: tensor, range: span))
        } else if accept("save") {
            let key = try string()
            try expect(":")
            program.saves.append(SaveInfo(key: key, type: try type(), range: span))
        } else if accept("block") {
            if accept("trace") {
                program.blocks.append(ProgramBlock(kind: .trace, invokes: [], range: span))
            } else {
                try expect("generate")
                try expect("max_tokens"); let m = try int()
                try expect("temperature"); let t = try double()
                try expect("top_k"); let k = try optionalInt()
                try expect("top_p"); let p: Double? = accept("none") ? nil : try double()
                try expect("seed"); let seed = try int()
                program.blocks.append(ProgramBlock(kind: .generate(GenerateOptions(maxTokens: m, temperature: t, topK: k, topP: p, seed: seed)),
                                                   invokes: [], range: span))
            }
        } else if accept("invoke") {
            guard !program.blocks.isEmpty else { throw fail("an invoke outside every block") }
            try expect("rows")
            let rows = try int()
            let prompts: [String]? = accept("prompts") ? try list { (s: inout Scanner) throws(IRTextError) in try s.string() } : nil
            let param: String? = accept("param") ? try string() : nil
            program.blocks[program.blocks.count - 1].invokes.append(Invoke(prompts: prompts, promptParam: param, rows: rows, range: span))
        } else {
            let id = try value()
            guard id.index == program.instructions.count else { throw fail("expected %\(program.instructions.count) next, got \(id)") }
            try expect("=")
            let op = try op()
            let type: ValueType? = accept(":") ? try self.type() : nil
            let anchor = try anchor()
            program.instructions.append(Instruction(id: id, op: op, type: type, anchor: anchor, range: span))
        }
        guard atEnd else { throw fail("unexpected text") }
    }

    var span: SourceSpan { SourceSpan(start: 0, end: 0, line: line, column: 1) }

    mutating func anchor() throws(IRTextError) -> Anchor {
        guard accept("@") else { return Anchor(block: -1, invoke: nil, phase: .before, steps: .prompt, guardValue: nil) }
        try expect("block")
        let block = try int()
        let invoke: Int? = accept("invoke") ? try int() : nil
        let phase: Phase
        if accept("before") { phase = .before } else if accept("after") { phase = .after } else if accept("grad") {
            phase = .grad(try int())
        } else {
            try expect("point")
            phase = .point(try int())
        }
        let steps: StepSet
        if accept("steps") {
            let lo = try int()
            if accept("...") { steps = .range(lo, nil) } else {
                try expect("..<")
                steps = .range(lo, try int())
            }
        } else {
            try expect("step")
            steps = .only(try int())
        }
        let guardValue: ValueID? = accept("if") ? try value() : nil
        return Anchor(block: block, invoke: invoke, phase: phase, steps: steps, guardValue: guardValue)
    }

    // swiftlint:disable:next cyclomatic_complexity
    mutating func op() throws(IRTextError) -> Op {
        let name = try word()
        guard let kind = OpKind.allCases.first(where: { $0.traits.name == name }) else { throw fail("unknown op `\(name)`") }
        switch kind {
        case .constant: return .constant(try const())
        case .tensorConstant:
            let shape = try list { (s: inout Scanner) throws(IRTextError) in try s.int() }
            return .tensorConstant(shape: shape, data: try list { (s: inout Scanner) throws(IRTextError) in try s.float() })
        case .param: return .param(try string())
        case .readPoint: return .readPoint(try int())
        case .tokens: return .tokens(try value())
        case .resultIds: return .resultIds
        case .resultText: return .resultText
        case .attentionMask: return .attentionMask
        case .unary: return .unary(try code(UnaryFn.self), try value())
        case .binary: return .binary(try code(BinaryFn.self), try value(), try value())
        case .index: return .index(try value(), try indexItems())
        case .reduce:
            let f = try code(ReduceFn.self), a = try value()
            try expect("dim")
            return .reduce(f, a, dim: try optionalInt(), keepdim: accept("keepdim"))
        case .softmax:
            let a = try value()
            try expect("dim")
            return .softmax(a, dim: try int(), log: accept("log"))
        case .topk:
            let a = try value()
            try expect("k"); let k = try int()
            try expect("dim")
            return .topk(a, k: k, dim: try int())
        case .topkValues: return .topkValues(try value())
        case .topkIndices: return .topkIndices(try value())
        case .reshape: return .reshape(try value(), try list { (s: inout Scanner) throws(IRTextError) in try s.dim() })
        case .transpose: return .transpose(try value(), try int(), try int())
        case .unsqueeze: return .unsqueeze(try value(), try int())
        case .squeeze: return .squeeze(try value(), try optionalInt())
        case .clone: return .clone(try value())
        case .cast: return .cast(try value(), try code(DType.self))
        case .cat, .stack:
            let parts = try list { (s: inout Scanner) throws(IRTextError) in try s.value() }
            try expect("dim")
            let d = try int()
            return kind == .cat ? .cat(parts, dim: d) : .stack(parts, dim: d)
        case .select: return .select(try value(), try value(), try value())
        case .cosine:
            let a = try value(), b = try value()
            try expect("dim")
            return .cosine(a, b, dim: try int())
        case .gather:
            let a = try value()
            try expect("dim")
            let d = try int()
            return .gatherAlong(a, dim: d, index: try value())
        case .fill: return .fill(shape: try list { (s: inout Scanner) throws(IRTextError) in try s.dim() }, value: try double())
        case .fillLike: return .fillLike(try value(), value: try double())
        case .random:
            let shape = try list { (s: inout Scanner) throws(IRTextError) in try s.dim() }
            let d: RandomDistribution
            if accept("normal") { d = .normal } else if accept("uniform") { d = .uniform } else {
                try expect("integers")
                d = .integers(low: try int(), high: try int())
            }
            try expect("seed")
            return .random(shape: shape, d, seed: try int())
        case .callModule: return .callModule(try string(), try value())
        case .weight: return .weight(try string())
        case .write:
            let p = try int(), items = try indexItems(), fn = try code(AssignFn.self)
            return .write(point: p, index: items, fn: fn, value: try value())
        case .update:
            let a = try value(), items = try indexItems(), fn = try code(AssignFn.self)
            return .update(a, index: items, fn: fn, value: try value())
        case .save: return .save(key: try string(), try value())
        case .skip: return .skip(module: try int())
        case .detach: return .detach(try value())
        case .backward: return .backward(try value())
        case .prompt: return .prompt(try value())
        case .nonzero: return .nonzero(try value())
        }
    }
}
