import NSIIR
import NSIJSON
import NSITensor

/// The listing of a verified plan, one instruction per line: code offset, source
/// line:column, register, opcode, operands (each printed by its kind, with constants,
/// names and points resolved), result type and anchor.
struct Disassembler {
    let plan: Plan
    let target: PlanTarget

    func listing() -> String {
        var out = "; pools: \(plan.strings.count) strings, \(plan.ints.count) ints, \(plan.floats.count) floats, "
            + "\(plan.tensors.count) tensors, \(plan.values.count) values, \(plan.types.count) types\n"
        out += "; offset  line:col  reg    opcode        operands  -> type  [anchor]\n"
        for (i, ins) in plan.code.enumerated() {
            let span = plan.spans[i]
            let where_ = pad("\(span.line):\(span.column)", 9)
            let operands = zip(ins.opcode.info.operands, ins.operands).map { spec, operand in
                "\(spec.name)=\(render(operand, spec.kind))"
            }.joined(separator: " ")
            var line = "  " + hex4(ins.offset) + "  " + where_ + " " + pad("%\(i)", 6) + " " + pad(ins.opcode.info.name, 13) + " " + operands
            if let t = ins.type { line += "  -> " + plan.describe(plan.types[t]) }
            line += "  [" + anchor(ins.anchor) + "]"
            out += line + "\n"
        }
        return out
    }

    func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }

    func anchor(_ a: PlanAnchor) -> String {
        var parts: [String] = []
        parts.append(a.block < 0 ? "outside blocks" : "block \(a.block)")
        if let inv = a.invoke { parts.append("invoke \(inv)") }
        switch a.phase {
        case .before: parts.append("before")
        case .after: parts.append("after")
        case .point(let p): parts.append(pointName(p))
        case .grad(let p): parts.append(pointName(p) + ".grad")
        }
        if a.block >= 0 { parts.append(a.steps.description) }
        if let g = a.guardValue { parts.append("if %\(g)") }
        return parts.joined(separator: ", ")
    }

    func pointName(_ p: Int) -> String {
        p < target.pointNames.count ? "@\(p) \(target.pointNames[p])" : "@\(p)"
    }

    func render(_ operand: Operand, _ kind: OperandKind) -> String {
        switch (kind, operand) {
        case (.reg, .int(let r)): return "%\(r)"
        case (.registers, .registers(let rs)): return "[" + rs.map { "%\($0)" }.joined(separator: ", ") + "]"
        case (.value, .int(let k)):
            var text = ""
            describe(value: k, into: &text)
            return "K[\(k)]=" + clip(text)
        case (.tensor, .int(let k)):
            let t = plan.tensors[k]
            return "T[\(k)]=f32[" + t.shape.map(String.init).joined(separator: ", ") + "]"
        case (.number, .int(let k)): return "F[\(k)]=\(Double(bitPattern: plan.floats[k]))"
        case (.string, .int(let k)): return "S[\(k)]=" + clip(JSONValue.quote(plan.strings[k]))
        case (.point, .int(let p)): return pointName(p)
        case (.module, .int(let m)): return m < target.moduleNames.count ? "\(m) (\(target.moduleNames[m]))" : "\(m)"
        case (.optionalAxis, .none): return "all"
        case (.flag, .int(let b)): return b == 1 ? "true" : "false"
        case (.unaryFn, .int(let c)), (.binaryFn, .int(let c)), (.reduceFn, .int(let c)), (.assignFn, .int(let c)), (.dtype, .int(let c)),
             (.randomFn, .int(let c)):
            return WireCodes.name(of: kind, c)
        case (.index, .index(let items)):
            return "[" + items.map { item in
                switch item {
                case .at(let r): return "%\(r)"
                case .gather(let r): return "gather(%\(r))"
                case .slice(let a, let b, let c):
                    return (a.map { "%\($0)" } ?? "") + ":" + (b.map { "%\($0)" } ?? "") + (c.map { ":%\($0)" } ?? "")
                }
            }.joined(separator: ", ") + "]"
        case (.shape, .shape(let dims)):
            return "[" + dims.map(plan.describe).joined(separator: ", ") + "]"
        case (_, .int(let n)): return String(n)
        default: return "?"
        }
    }

    /// A value as the IR prints it, stopping once the text is long enough to clip (a list
    /// may be large).
    func describe(value k: Int, into text: inout String) {
        guard text.count <= 48 else { return }
        switch plan.values[k] {
        case .int(let i): text += String(plan.ints[i])
        case .float(let f): text += String(Double(bitPattern: plan.floats[f]))
        case .bool(let b): text += b ? "true" : "false"
        case .str(let s): text += JSONValue.quote(plan.strings[s])
        case .list(let items):
            text += "["
            for (n, item) in items.enumerated() {
                guard text.count <= 48 else { break }
                if n > 0 { text += ", " }
                describe(value: item, into: &text)
            }
            text += "]"
        }
    }

    func clip(_ s: String) -> String { s.count <= 48 ? s : String(s.prefix(45)) + "..." }
}
