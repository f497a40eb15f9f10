/// The opcode and operand reference of docs/bytecode.md, generated from the table (a test
/// keeps the document equal to this text).
extension Bytecode {
    public static func reference() -> String {
        var out = "| byte | opcode | operands | result | effect |\n|------|--------|----------|--------|--------|\n"
        for row in OpcodeInfo.table {
            let operands = row.operands.map { "\($0.name):\($0.kind.label)" }.joined(separator: " ")
            let hex = String(row.opcode.rawValue, radix: 16, uppercase: true)
            out += "| 0x\(hex.count == 1 ? "0" + hex : hex) | `\(row.name)` | "
                + (operands.isEmpty ? "none" : "`\(operands)`") + " | \(row.result.rawValue) | \(row.effect) |\n"
        }
        out += "\nWhat the optimizer and the VM know of each (NSIIR's op table): role (pure, reads state, effect), "
            + "whether the result may be a view of the first operand, whether the op keeps its operands past its hook, "
            + "whether gradients flow through it, and its cost class.\n\n"
            + "| opcode | role | view | keeps | gradient | cost |\n|--------|------|------|-------|----------|------|\n"
        for row in OpcodeInfo.table {
            let t = row.opcode.traits
            out += "| `\(row.name)` | \(t.role) | \(t.aliases ? "yes" : "no") | \(t.keepsOperands ? "yes" : "no") | \(t.gradient) | \(t.cost) |\n"
        }
        out += "\nOperand kinds:\n\n| kind | written as | verified |\n|------|------------|----------|\n"
        for kind in OperandKind.all {
            let label: String
            switch kind {
            case .reg: label = "reg(class)"
            case .string: label = "S(role)"
            default: label = kind.label
            }
            out += "| `\(label)` | \(kind.encoding) | \(kind.check) |\n"
        }
        out += "\nFunction and dtype codes (u8, in this order; append only):\n\n"
        for kind in [OperandKind.unaryFn, .binaryFn, .reduceFn, .assignFn, .dtype] {
            out += "- `\(kind.label)`: " + WireCodes.names(of: kind).enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ") + "\n"
        }
        return out
    }
}
