import NSIIR
import NSITensor

/// The body: eleven sections, each a tag byte, a varint length and its content, in the
/// order of `SectionTag`. Pools come first so that tables and code refer only backwards.
/// Writing is here; reading is in BodyReader.swift.
enum Body {
    static func write(_ plan: Plan) throws(BytecodeError) -> [UInt8] {
        var out = ByteWriter()
        var w = ByteWriter()
        w.uint(plan.strings.count)
        for s in plan.strings { w.string(s) }
        out.section(.strings, w)

        w = ByteWriter()
        w.uint(plan.ints.count)
        for i in plan.ints { w.sint(i) }
        out.section(.ints, w)

        w = ByteWriter()
        w.uint(plan.floats.count)
        for f in plan.floats { w.u64(f) }
        out.section(.floats, w)

        w = ByteWriter()
        w.uint(plan.tensors.count)
        for t in plan.tensors {
            w.uint(t.shape.count)
            for d in t.shape { w.sint(d) }
            w.uint(t.data.count)
            for x in t.data { w.u32(x) }
        }
        out.section(.tensors, w)

        w = ByteWriter()
        w.uint(plan.values.count)
        for v in plan.values {
            switch v {
            case .int(let i): w.u8(0); w.uint(i)
            case .float(let i): w.u8(1); w.uint(i)
            case .bool(let b): w.u8(2); w.u8(b ? 1 : 0)
            case .str(let i): w.u8(3); w.uint(i)
            case .list(let items): w.u8(4); w.uint(items.count); for i in items { w.uint(i) }
            }
        }
        out.section(.values, w)

        w = ByteWriter()
        w.uint(plan.types.count)
        for t in plan.types {
            switch t {
            case .int: w.u8(0)
            case .float: w.u8(1)
            case .bool: w.u8(2)
            case .str: w.u8(3)
            case .tensor(let d, let dims): w.u8(4); w.u8(try dtypeCode(d)); writeDims(dims, &w)
            case .strings(let n): w.u8(5); w.uint(n)
            case .topk(let dims): w.u8(6); writeDims(dims, &w)
            case .list(let items): w.u8(7); w.uint(items.count); for i in items { w.uint(i) }
            }
        }
        out.section(.types, w)

        w = ByteWriter()
        w.uint(plan.params.count)
        for p in plan.params {
            w.uint(p.name)
            w.uint(p.type)
            w.u8(p.binding == .compileTime ? 0 : 1)
            w.optionalUInt(p.value)
            w.optionalUInt(p.tensor)
            writeSpan(p.span, &w)
        }
        out.section(.params, w)

        w = ByteWriter()
        w.uint(plan.saves.count)
        for s in plan.saves {
            w.uint(s.key)
            w.uint(s.type)
            writeSpan(s.span, &w)
        }
        out.section(.saves, w)

        w = ByteWriter()
        w.uint(plan.blocks.count)
        for b in plan.blocks {
            switch b.kind {
            case .trace: w.u8(0)
            case .generate(let maxTokens, let temperature, let topK, let topP, let seed):
                w.u8(1)
                w.sint(maxTokens)
                w.u64(temperature)
                w.optionalSInt(topK)
                if let topP { w.u8(1); w.u64(topP) } else { w.u8(0) }
                w.sint(seed)
            }
            writeSpan(b.span, &w)
            w.uint(b.invokes.count)
            for inv in b.invokes {
                if let prompts = inv.prompts {
                    w.u8(1)
                    w.uint(prompts.count)
                    for p in prompts { w.uint(p) }
                } else {
                    w.u8(0)
                }
                w.optionalUInt(inv.promptParam)
                w.uint(inv.rows)
                writeSpan(inv.span, &w)
            }
        }
        out.section(.blocks, w)

        w = ByteWriter()
        w.uint(plan.code.count)
        for ins in plan.code {
            w.u8(ins.opcode.rawValue)
            let specs = ins.opcode.info.operands
            guard specs.count == ins.operands.count else {
                throw .notEncodable("\(ins.opcode.info.name) takes \(specs.count) operands, got \(ins.operands.count)")
            }
            for (spec, operand) in zip(specs, ins.operands) { try writeOperand(operand, spec.kind, &w) }
            w.optionalUInt(ins.type)
            writeAnchor(ins.anchor, &w)
        }
        out.section(.code, w)

        w = ByteWriter()
        w.uint(plan.spans.count)
        var previous = SourceSpan(start: 0, end: 0, line: 0, column: 0)
        for s in plan.spans {
            w.sint(s.line &- previous.line)
            w.sint(s.column)
            w.sint(s.start &- previous.start)
            w.sint(s.end &- s.start)
            previous = s
        }
        out.section(.lines, w)
        return out.bytes
    }

    static func dtypeCode(_ d: DType) throws(BytecodeError) -> UInt8 {
        guard let i = WireCodes.dtypes.firstIndex(of: d) else { throw .notEncodable("dtype \(d) has no wire code") }
        return UInt8(i)
    }

    static func writeDims(_ dims: [PlanDim], _ w: inout ByteWriter) {
        w.uint(dims.count)
        for d in dims {
            switch d {
            case .known(let n): w.u8(0); w.sint(n)
            case .symbol(let s): w.u8(1); w.uint(s)
            }
        }
    }

    static func writeSpan(_ s: SourceSpan, _ w: inout ByteWriter) {
        w.sint(s.start)
        w.sint(s.end)
        w.sint(s.line)
        w.sint(s.column)
    }

    static func writeAnchor(_ a: PlanAnchor, _ w: inout ByteWriter) {
        w.sint(a.block)
        w.optionalUInt(a.invoke)
        switch a.phase {
        case .before: w.uint(0)
        case .after: w.uint(1)
        case .point(let p): w.uint(2 * p + 2)
        case .grad(let p): w.uint(2 * p + 3)
        }
        switch a.steps {
        case .only(let n): w.u8(0); w.sint(n)
        case .range(let lo, let hi): w.u8(1); w.sint(lo); w.optionalSInt(hi)
        }
        w.optionalUInt(a.guardValue)
    }

    /// Writes one operand as its kind says (the table decides, not the opcode).
    static func writeOperand(_ operand: Operand, _ kind: OperandKind, _ w: inout ByteWriter) throws(BytecodeError) {
        switch (kind, operand) {
        case (.reg, .int(let n)), (.value, .int(let n)), (.tensor, .int(let n)), (.number, .int(let n)),
             (.string, .int(let n)), (.point, .int(let n)), (.module, .int(let n)):
            w.uint(n)
        case (.axis, .int(let n)), (.newAxis, .int(let n)), (.count, .int(let n)), (.integer, .int(let n)):
            w.sint(n)
        case (.optionalAxis, .int(let n)): w.optionalSInt(n)
        case (.optionalAxis, .none): w.optionalSInt(nil)
        case (.flag, .int(let n)) where n == 0 || n == 1: w.u8(UInt8(n))
        case (.unaryFn, .int(let n)), (.binaryFn, .int(let n)), (.reduceFn, .int(let n)), (.assignFn, .int(let n)), (.dtype, .int(let n)),
             (.randomFn, .int(let n)):
            guard let limit = WireCodes.count(of: kind), n >= 0, n < limit else { throw .notEncodable("function code \(n)") }
            w.u8(UInt8(n))
        case (.registers, .registers(let rs)):
            w.uint(rs.count)
            for r in rs { w.uint(r) }
        case (.index, .index(let items)):
            w.uint(items.count)
            for item in items {
                switch item {
                case .at(let r): w.u8(0); w.uint(r)
                case .gather(let r): w.u8(1); w.uint(r)
                case .slice(let a, let b, let c): w.u8(2); w.optionalUInt(a); w.optionalUInt(b); w.optionalUInt(c)
                }
            }
        case (.shape, .shape(let dims)):
            writeDims(dims, &w)
        default:
            throw .notEncodable("operand \(operand) does not fit kind \(kind.label)")
        }
    }
}
