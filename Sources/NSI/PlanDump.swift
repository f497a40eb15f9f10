import Foundation
import NSIBytecode
import NSIIR
import NSIJSON
import NSIModel
import NSIVM
import NSIOpt
import NSIRuntime
import NSITensor

/// The review text of a plan: params, each block's batch, its hooks in forward order and
/// where its pass stops, the saved outputs with their sizes, and a cost estimate.
public struct PlanDump {
    let program: Program
    let signature: ModelSignature
    let name: String
    let model: String
    let header: PlanHeader
    /// Where values live when the VM runs it: reads as views where they can be (not
    /// with --no-optimize), and when each register is released.
    let memoryPlan: MemoryPlan

    public init(program: Program, signature: ModelSignature, name: String, model: String, header: PlanHeader, elideCopies: Bool = true) {
        self.program = program
        self.signature = signature
        self.name = name
        self.model = model
        self.header = header
        memoryPlan = MemoryPlan(program, elideCopies: elideCopies)
    }

    var points: [Point] { signature.points.points }

    public func render() -> String {
        let invokes = program.blocks.map(\.invokes.count).reduce(0, +)
        var out = "plan \(name) for \(model) (signature \(header.signatureHash.prefix(16))...)\n"
        out += "format \(header.version): \(header.fileSize) bytes (body \(header.bodySize) bytes before zstd); "
            + "\(program.instructions.count) instructions, \(program.blocks.count) block\(s(program.blocks.count)), "
            + "\(invokes) invoke\(s(invokes)), \(program.saves.count) save\(s(program.saves.count))\n"
        out += "\n" + renderParams()
        let setup = program.instructions.filter { $0.anchor.block < 0 }
        if !setup.isEmpty { out += "\nbefore every block: " + summary(setup) + "\n" }
        for (b, block) in program.blocks.enumerated() { out += "\n" + renderBlock(b, block) }
        out += "\n" + renderSaves()
        out += "\n" + renderMemory()
        out += "\n" + renderBounds()
        out += "\n" + renderCost()
        return out
    }

    // MARK: Memory

    func symbols(_ b: Int) -> [String: Int] {
        guard let t = tokens(program.blocks[b])?.count else { return [:] }
        var out = ["T": t]
        if case .generate(let o) = program.blocks[b].kind {
            out["S"] = t + o.maxTokens
            out["L"] = t + o.maxTokens
        }
        return out
    }

    func renderMemory() -> String {
        let plan = memoryPlan
        let reads = program.instructions.filter { if case .readPoint = $0.op { return true }; return false }
        let views = reads.filter { plan.storage[$0.id.index] == .view }.count
        let slices = program.instructions.filter { plan.storage[$0.id.index] == .copy && $0.op.aliasedOperand != nil }.count
        var out = "memory (views cost nothing; each value is released after its last use):\n"
        out += "  \(reads.count) read\(s(reads.count)): \(views) view\(s(views)) (copy elided), \(reads.count - views) copied"
        out += slices > 0 ? "; \(slices) slice\(s(slices)) of views copied\n" : "\n"
        let p = plan.peak(program, symbols: symbols)
        let approx = p.exact ? "" : " (unknown sizes taken as 1)"
        out += "  peak extra memory: \(p.peak) bytes"
        if let at = p.at {
            let ins = program.instructions[at]
            var place = ""
            if case .point(let q) = ins.anchor.phase { place = " at @\(q) \(points[q].name)" }
            else if ins.anchor.block >= 0 { place = " \(ins.anchor.phase) block \(ins.anchor.block)" }
            out += ", after \(ins.id) \(opName(ins.op))\(place)"
        }
        out += "\(approx); \(p.total) bytes if nothing were released\n"
        return out
    }

    func s(_ n: Int) -> String { n == 1 ? "" : "s" }

    /// What a run holds at most, with the params' defaults: what a server checks before
    /// it queues the plan (RunBounds), beside the limits the VM enforces while it runs.
    func renderBounds() -> String {
        let b = RunBounds(program, signature: signature)
        func bytes(_ n: Int?) -> String { n.map { $0 == Int.max ? "more than \(Int.max) bytes" : "\($0) bytes" } ?? "known when it runs" }
        var out = "bounds (with the params' defaults; a server refuses a job past its limits before queueing it):\n"
        for (i, block) in b.blocks.enumerated() {
            let rows = "\(block.rows) row\(s(block.rows))"
            guard let t = block.tokens, let p = block.pass else {
                out += "  block \(i): \(rows); its prompt is known when the run gets there\n"
                continue
            }
            let steps = block.generated > 0 ? " + \(block.generated) generated" : ""
            out += "  block \(i): \(rows) × \(t) tokens\(steps) of \(b.maxPositions) positions: attention scores \(bytes(p.scoreBytes)), "
                + "cached keys and values and activations \(bytes(p.cacheAndActivationBytes))\n"
        }
        out += "  the plan's own values at once: \(bytes(b.registerBytes)); saved: \(bytes(b.savedBytes))"
        out += b.generatedTokens > 0 ? "; generated tokens: \(b.generatedTokens)\n" : "\n"
        out += "  forward passes: " + (b.flops.map { "about " + RunBounds.describe(flops: $0) } ?? "known when it runs") + "\n"
        return out
    }

    // MARK: Params

    func renderParams() -> String {
        guard !program.params.isEmpty else { return "params: none\n" }
        var rows: [[String]] = []
        for p in program.params {
            var value = ""
            if let v = p.value { value = (p.binding == .compileTime ? "= " : "default ") + clip(v.description) }
            if let t = p.tensorDefault { value = "default f32[" + t.shape.map(String.init).joined(separator: ", ") + "] (load)" }
            if value.isEmpty { value = "required when running" }
            rows.append([p.name, p.type.description, p.binding.rawValue, value])
        }
        return "params:\n" + table(rows, indent: "  ")
    }

    // MARK: Blocks

    /// Tokens per row of a block when its prompts are known (compile-time prompts, or a
    /// prompt param's default) and the model has a tokenizer: the padded length.
    func tokens(_ block: ProgramBlock) -> (count: Int, source: String)? {
        guard let tokenizer = signature.tokenizer else { return nil }
        var texts: [String] = []
        var fromDefaults = false
        var idLengths: [Int] = []
        for (k, inv) in block.invokes.enumerated() {
            if let p = inv.prompts { texts += p; continue }
            if let v = promptValue(block: program.blocks.firstIndex(of: block) ?? -1, invoke: k) {
                guard case .tensor(_, let dims)? = program.instructions[v.index].type, let n = dims.last?.value else { return nil }
                idLengths.append(n)
                continue
            }
            guard let name = inv.promptParam, case .str(let text)? = program.params.first(where: { $0.name == name })?.value else { return nil }
            texts.append(text)
            fromDefaults = true
        }
        let lengths = texts.map { tokenizer.encode($0, addSpecialTokens: true).count } + idLengths
        guard let longest = lengths.max() else { return nil }
        return (longest, fromDefaults ? "with the default prompts" : "padded")
    }

    /// The value an invoke's `prompt` instruction names, if its prompt is one.
    func promptValue(block b: Int, invoke k: Int) -> ValueID? {
        for ins in program.instructions where ins.anchor.block == b && ins.anchor.invoke == k {
            if case .prompt(let v) = ins.op { return v }
        }
        return nil
    }

    /// How the batch table and sharing keys name an invoke's prompt.
    func promptLabel(block b: Int, invoke k: Int) -> String {
        let inv = program.blocks[b].invokes[k]
        if let p = inv.prompts { return p.map { clip(JSONValue.quote($0)) }.joined(separator: ", ") }
        if let name = inv.promptParam { return "param \(name)" }
        if let v = promptValue(block: b, invoke: k) { return "\(v) " + (program.instructions[v.index].type.map { "\($0)" } ?? "") }
        return "?"
    }

    func renderBlock(_ b: Int, _ block: ProgramBlock) -> String {
        let rows = block.invokes.map(\.rows).reduce(0, +)
        var out = "block \(b): "
        switch block.kind {
        case .trace: out += "trace"
        case .generate(let o):
            out += "generate (max_tokens \(o.maxTokens), temperature \(o.temperature)"
                + (o.topK.map { ", top_k \($0)" } ?? "") + (o.topP.map { ", top_p \($0)" } ?? "") + ", seed \(o.seed))"
        }
        out += ", \(block.invokes.count) invoke\(s(block.invokes.count)), \(rows) row\(s(rows)) (line \(block.range.line))\n"
        if let t = tokens(block) { out += "  T = \(t.count) tokens per row (\(t.source))\n" }
        out += "  batch:\n"
        var row = 0
        var batch: [[String]] = []
        for (k, inv) in block.invokes.enumerated() {
            let rowText = inv.rows == 1 ? "row \(row)" : "rows \(row)..<\(row + inv.rows)"
            batch.append(["invoke \(k)", rowText, promptLabel(block: b, invoke: k)])
            row += inv.rows
        }
        out += table(batch, indent: "    ")
        let mine = program.instructions.filter { $0.anchor.block == b }
        let before = mine.filter { $0.anchor.phase == .before }
        if !before.isEmpty { out += "  before the pass: " + (before.count <= 12 ? grouped(before) : summary(before)) + "\n" }
        var byPoint: [Int: [Instruction]] = [:]
        for ins in mine { if case .point(let p) = ins.anchor.phase { byPoint[p, default: []].append(ins) } }
        if !byPoint.isEmpty {
            out += "  hooks, in forward order:\n"
            for p in byPoint.keys.sorted() {
                let point = points[p]
                out += "    @\(p) \(point.name) [" + point.shape.map(\.description).joined(separator: ", ") + "]\n"
                out += groups(byPoint[p]!).map { "      " + $0 + "\n" }.joined()
            }
        }
        switch block.kind {
        case .trace:
            let last = byPoint.keys.max() ?? signature.points.embed
            if last < signature.points.logits {
                out += "  the pass stops after @\(last) \(points[last].name); the logits are not computed\n"
            } else {
                out += "  the pass runs to the logits (@\(last))\n"
            }
            if mine.contains(where: { $0.op.kind == .backward }) {
                out += renderReverse(mine, block, forwardEnd: last)
            } else {
                out += renderSharing(b, block)
            }
        case .generate:
            out += "  every step runs the whole pass (sampling needs the logits)\n"
        }
        let after = mine.filter { $0.anchor.phase == .after }
        if !after.isEmpty { out += "  after the pass: " + (after.count <= 12 ? grouped(after) : summary(after)) + "\n" }
        return out
    }

    /// The reverse pass of a trace with `backward`: the points whose gradient the plan
    /// uses, in the order the pass reaches them, the layers recorded for it, and an
    /// estimate of what the forward keeps (inputs of norms, products and activations,
    /// each layer's scores and pattern) at the block's prompt length.
    func renderReverse(_ mine: [Instruction], _ block: ProgramBlock, forwardEnd: Int) -> String {
        var byGrad: [Int: [Instruction]] = [:]
        for ins in mine { if case .grad(let p) = ins.anchor.phase { byGrad[p, default: []].append(ins) } }
        guard let start = byGrad.keys.min() else { return "  a reverse pass with no gradient read or written\n" }
        var out = "  reverse pass (recorded from @\(start) \(points[start].name); rows never shared), in reverse order:\n"
        for p in byGrad.keys.sorted(by: >) {
            out += "    @\(p) \(points[p].name).grad\n"
            out += groups(byGrad[p]!).map { "      " + $0 + "\n" }.joined()
        }
        let layers = signature.points.layers.enumerated().filter { $0.element.output >= start && $0.element.attnNorm <= max(forwardEnd, byGrad.keys.max()!) }
        let c = signature.config
        let t = tokens(block)?.count ?? 0
        let rows = block.invokes.reduce(0) { $0 + $1.rows }
        // Per token: the two norms' inputs, q, k and v, the MLP's two projections; per row
        // and head: the scores and the pattern (kept by the softmax and by the product).
        let perToken = 2 * c.hiddenSize + (c.numHeads + 2 * c.numKVHeads) * c.headDim + 2 * c.intermediateSize
        let perLayer = rows * (t * perToken + 3 * c.numHeads * t * t) * 4
        out += "  layers recorded: " + (layers.isEmpty ? "none" : "\(layers.first!.offset)...\(layers.last!.offset)")
        out += t > 0 ? ", about \(perLayer * layers.count) bytes kept for \(rows) rows of \(t) tokens\n" : "\n"
        return out
    }

    /// Shared prefixes (see `PrefixSharing`): invokes with the same prompt are computed
    /// once until each is first written, and from then on only from the first written
    /// position. Prompts from one param are the same at any value; positions given by
    /// params are counted at their defaults.
    func renderSharing(_ b: Int, _ block: ProgramBlock) -> String {
        let layers = signature.points.layers.count
        let length = tokens(block)?.count
        var byDefault = false
        let writes = PrefixSharing.firstWrites(program, block: b, points: signature.points, layers: layers, tokens: length) { id in
            if case .param = program.instructions[id.index].op { byDefault = true }
            return PrefixSharing.constantInt(program, id, defaults: true)
        }
        // One row per prompt; rows of an invoke with one prompt group by it.
        var keys: [String: Int] = [:]
        var groups: [Int] = [], invokeOf: [Int] = []
        for (k, inv) in block.invokes.enumerated() {
            for i in 0..<inv.rows {
                let key = inv.rows == 1 ? promptLabel(block: b, invoke: k) : "\(k).\(i)"
                if keys[key] == nil { keys[key] = keys.count }
                groups.append(keys[key]!)
                invokeOf.append(k)
            }
        }
        let sharing = RowSharing(firstWrite: invokeOf.map { writes[$0]?.layer }, firstPosition: invokeOf.map { writes[$0]?.position ?? 0 })
        guard let report = SharingReport.predict(groups: groups, tokens: length ?? 1, sharing: sharing, layers: layers) else { return "" }
        var lines: [String] = []
        for source in Set(report.forks.map(\.source)).sorted() {
            let w = writes[invokeOf[source]]
            let name = keys.first { $0.value == groups[source] }.map { clip($0.key) } ?? ""
            lines.append("    \(name): invoke \(invokeOf[source]) computed everywhere ("
                         + (w.map { "first written in layer \($0.layer) from position \($0.position)" } ?? "never written") + ")")
            let forks = report.forks.filter { $0.source == source }
            let computed = forks.filter { $0.layer != nil }
            for position in Set(computed.map(\.position)).sorted() {
                let forked = computed.filter { $0.position == position }.map { "invoke \(invokeOf[$0.row]) at layer \($0.layer!)" }
                lines.append("      forked, from position \(position): " + (forked.count <= 6 ? forked.joined(separator: ", ")
                                                 : forked.prefix(3).joined(separator: ", ") + ", ... " + forked.suffix(2).joined(separator: ", ")))
            }
            let never = forks.filter { $0.layer == nil }.map { "invoke \(invokeOf[$0.row])" }
            if !never.isEmpty { lines.append("      never written, so never computed: " + never.joined(separator: ", ")) }
        }
        let saved = report.tokenLayersTotal - report.tokenLayersComputed
        let unit = length == nil ? "row-layers (prompt length unknown)" : "token-layers"
        return "  shared prefixes (rows with the same prompt are computed once until each is first written, then from its first written position):\n"
            + lines.map { $0 + "\n" }.joined()
            + "    \(report.tokenLayersComputed) of \(report.tokenLayersTotal) \(unit) computed (\(Int((Double(saved) / Double(max(report.tokenLayersTotal, 1)) * 100).rounded()))% saved)"
            + (byDefault ? ", positions at the params' defaults" : "") + "\n"
    }

    /// Instructions at one point, grouped by invoke and steps, in program order.
    func groups(_ list: [Instruction]) -> [String] {
        var keys: [String] = []
        var members: [String: [Instruction]] = [:]
        for ins in list {
            let key = "invoke \(ins.anchor.invoke ?? 0), \(ins.anchor.steps)"
            if members[key] == nil { keys.append(key) }
            members[key, default: []].append(ins)
        }
        return keys.map { "\($0): " + members[$0]!.map(brief).joined(separator: ", ") }
    }

    func grouped(_ list: [Instruction]) -> String { groups(list).joined(separator: "; ") }

    func brief(_ ins: Instruction) -> String {
        var storage = ""
        switch memoryPlan.storage[ins.id.index] {
        case .view: storage = " view"
        case .copy: storage = " copy"
        default: break
        }
        return "\(ins.id) " + opName(ins.op) + storage + (ins.anchor.guardValue.map { " if \($0)" } ?? "")
    }

    func summary(_ list: [Instruction]) -> String {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for ins in list {
            let n = opName(ins.op)
            if counts[n] == nil { order.append(n) }
            counts[n, default: 0] += 1
        }
        return "\(list.count) instruction\(s(list.count)) (" + order.map { "\(counts[$0]!) \($0)" }.joined(separator: ", ") + ")"
    }

    func opName(_ op: Op) -> String {
        op.label { signature.points.modules[$0].canonicalName }
    }

    // MARK: Saves

    /// dtype, shape and size of what the results file holds for a saved value.
    func layout(_ t: ValueType) -> (dtype: String, shape: [ShapeDim], elementBytes: Int)? {
        switch t {
        case .int: return ("i64", [], 8)
        case .float: return ("f32", [], 4)
        case .bool: return ("u8", [], 1)
        case .tensor(let d, let s): return (d == .bool ? "u8" : d.rawValue, s, d == .bool ? 1 : d.size)
        case .topk(let s): return ("topk", s, 12)
        default: return nil
        }
    }

    /// `2304·T bytes`: the known part times the symbols.
    func size(_ shape: [ShapeDim], _ elementBytes: Int) -> (coefficient: Int, symbols: [String]) {
        var known = elementBytes
        var symbols: [String] = []
        for d in shape {
            switch d {
            case .known(let n): known = known.multipliedReportingOverflow(by: n).partialValue
            case .symbol(let s): symbols.append(s)
            }
        }
        return (known, symbols)
    }

    func renderSaves() -> String {
        guard !program.saves.isEmpty else { return "saves: none\n" }
        var rows: [[String]] = []
        var total = 0
        var symbolic = 0
        for save in program.saves {
            guard let l = layout(save.type) else {
                rows.append([save.key, save.type.description, "text, in the JSON sidecar", "line \(save.range.line)"])
                continue
            }
            let shape = l.shape.described
            let typeText = l.dtype == "topk" ? "topk f32\(shape) + i64\(shape)" : l.dtype + shape
            let (coefficient, symbols) = size(l.shape, l.elementBytes)
            var sizeText: String
            if symbols.isEmpty {
                total += coefficient
                sizeText = "\(coefficient) bytes"
            } else {
                symbolic += 1
                sizeText = ([String(coefficient)] + symbols).joined(separator: "·") + " bytes"
                if let t = blockTokens(ofSave: save.key), symbols.allSatisfy({ $0 == "T" || $0 == "S" }) {
                    sizeText += " (\(symbols.reduce(coefficient) { acc, _ in acc * t }) at T = \(t))"
                }
            }
            rows.append([save.key, typeText, sizeText, "line \(save.range.line)"])
        }
        var head = "saves: \(program.saves.count) value\(s(program.saves.count)), \(total) bytes"
        if symbolic > 0 { head += " + \(symbolic) sized by the prompt" }
        return head + "\n" + table(rows, indent: "  ")
    }

    func blockTokens(ofSave key: String) -> Int? {
        guard let ins = program.instructions.first(where: { if case .save(key, _) = $0.op { return true }; return false }),
              ins.anchor.block >= 0, case .trace = program.blocks[ins.anchor.block].kind else { return nil }
        return tokens(program.blocks[ins.anchor.block])?.count
    }

    // MARK: Cost

    /// The matmul weights of the forward pass, each with the point its output reaches.
    func weights() -> [(point: Int, count: Int)] { signature.matmulWeights }

    func renderCost() -> String {
        let all = weights()
        let total = all.map(\.count).reduce(0, +)
        var out = "cost estimate (2 × matmul weights × tokens; attention scores and norms not counted):\n"
        out += "  the full pass uses \(count(total)) weights: \(flops(2 * Double(total))) per token\n"
        var grand = 0.0
        var exact = true
        for (b, block) in program.blocks.enumerated() {
            let rows = block.invokes.map(\.rows).reduce(0, +)
            let (used, stop) = RunBounds.passWeights(program, block: b, signature: signature)
            let note = stop.map { ", stopping after @\($0)" } ?? ""
            guard let t = tokens(block) else {
                out += "  block \(b): \(rows) row\(s(rows)) × T tokens\(note): \(flops(2 * Double(used) * Double(rows))) × T\n"
                exact = false
                continue
            }
            var positions = rows * t.count
            var passes = "\(rows) row\(s(rows)) × \(t.count) tokens"
            if case .generate(let o) = block.kind {
                positions += rows * max(o.maxTokens - 1, 0)
                passes += " + \(max(o.maxTokens - 1, 0)) steps × \(rows) row\(s(rows))"
            }
            let f = 2 * Double(used) * Double(positions)
            grand += f
            out += "  block \(b): \(passes)\(note): \(flops(f))\n"
        }
        let hooks = program.instructions.map(hookCost).reduce(0, +)
        out += "  hooks: \(program.instructions.count) instructions ≈ \(flops(hooks))"
        if exact && grand > 0 { out += String(format: " (%.4f%% of the passes)", 100 * hooks / grand) }
        out += "\n"
        if exact { out += "  total ≈ \(flops(grand + hooks))\n" }
        return out
    }

    /// Elements an instruction touches, times its steps: a rough count of its FLOPs.
    /// Symbols take the block's token count (or 1 when unknown).
    func hookCost(_ ins: Instruction) -> Double {
        let block = ins.anchor.block >= 0 ? program.blocks[ins.anchor.block] : nil
        let t = Double(block.flatMap(tokens)?.count ?? 1)
        func elements(_ type: ValueType?) -> Double {
            guard let shape = type?.shape else { return 1 }
            return shape.reduce(1.0) { acc, d in acc * (d.value.map(Double.init) ?? t) }
        }
        func typeOf(_ v: ValueID) -> ValueType? { program.instructions[v.index].type }
        var cost: Double
        switch ins.op {
        case .binary(.matmul, let a, _):
            cost = 2 * elements(ins.type) * Double(typeOf(a)?.shape?.last?.value ?? 1)
        case .callModule(let name, let a):
            let positions = elements(typeOf(a)) / Double(max(typeOf(a)?.shape?.last?.value ?? 1, 1))
            let c = signature.config
            if name == "lm_head" { cost = 2 * positions * Double(c.hiddenSize * c.vocabSize) }
            else if name.hasSuffix(".mlp") { cost = 2 * positions * Double(signature.mlpWeights) }
            else { cost = 5 * elements(ins.type) }
        case .reduce(_, let a, _, _), .softmax(let a, _, _), .topk(let a, _, _):
            cost = elements(typeOf(a)) * (ins.op.isSoftmax ? 5 : 1)
        case .write(_, _, _, let v):
            cost = elements(typeOf(v))
        case .save, .skip, .param, .constant:
            cost = 0
        default:
            cost = elements(ins.type)
        }
        if case .generate(let o) = block?.kind {
            switch ins.anchor.steps {
            case .only: break
            case .range(let lo, let hi): cost *= Double(max(min(hi ?? o.maxTokens, o.maxTokens) - lo, 0))
            }
        }
        return cost
    }

    func count(_ n: Int) -> String {
        let x = Double(n)
        if x >= 1e9 { return String(format: "%.2f G", x / 1e9) }
        if x >= 1e6 { return String(format: "%.1f M", x / 1e6) }
        if x >= 1e3 { return String(format: "%.1f k", x / 1e3) }
        return String(n)
    }

    func flops(_ x: Double) -> String { RunBounds.describe(flops: x) }

    // MARK: Text

    func clip(_ s: String) -> String { s.count <= 72 ? s : String(s.prefix(69)) + "..." }

    func table(_ rows: [[String]], indent: String) -> String {
        guard let n = rows.map(\.count).max() else { return "" }
        var widths = Array(repeating: 0, count: n)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            indent + r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

private extension Op {
    var isSoftmax: Bool { if case .softmax = self { return true }; return false }
}
