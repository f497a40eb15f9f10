import NSIIR
import NSITensor

/// Reading a body back into a plan: sections in order, every count bounded by a limit and
/// by the bytes left, operands read as the opcode table's kinds say. Cross-references are
/// left to the verifier.
extension Body {

    static func read(_ bytes: [UInt8], signatureHash: String, limits: BytecodeLimits) throws(BytecodeError) -> Plan {
        var plan = Plan(signatureHash: signatureHash)
        var position = 0
        for tag in SectionTag.allCases {
            var outer = ByteReader(bytes, from: position, section: "body")
            let found = try outer.u8()
            guard found == tag.rawValue else { throw .missingSection(expected: tag.name, found: Int(found), offset: position) }
            let length = try outer.uint()
            guard length <= outer.remaining else { throw .truncatedSection(section: tag.name, offset: position) }
            var r = ByteReader(bytes, from: outer.position, to: outer.position + length, section: tag.name)
            try readSection(tag, &r, &plan, limits)
            guard r.atEnd else {
                throw .sectionLengthMismatch(section: tag.name, declared: length, used: r.position - outer.position)
            }
            position = r.end
        }
        guard position == bytes.count else { throw .trailingSections(offset: position) }
        return plan
    }

    static func readSection(_ tag: SectionTag, _ r: inout ByteReader, _ plan: inout Plan, _ limits: BytecodeLimits) throws(BytecodeError) {
        switch tag {
        case .strings:
            let n = try r.count("string count", limit: limits.maxPoolEntries)
            plan.strings.reserveCapacity(n)
            for _ in 0..<n { plan.strings.append(try r.string(limit: limits.maxStringBytes)) }
        case .ints:
            let n = try r.count("int count", limit: limits.maxPoolEntries)
            for _ in 0..<n { plan.ints.append(try r.sint()) }
        case .floats:
            let n = try r.count("float count", limit: limits.maxPoolEntries, minBytes: 8)
            for _ in 0..<n { plan.floats.append(try r.u64()) }
        case .tensors:
            let n = try r.count("tensor count", limit: limits.maxPoolEntries)
            var total = 0
            for _ in 0..<n {
                let rank = try r.count("tensor rank", limit: limits.maxRank)
                var shape: [Int] = []
                for _ in 0..<rank { shape.append(try r.sint()) }
                let count = try r.count("tensor element count", limit: limits.maxTensorElements - total, minBytes: 4)
                total += count
                var data: [UInt32] = []
                data.reserveCapacity(count)
                for _ in 0..<count { data.append(try r.u32()) }
                plan.tensors.append(PlanTensor(shape: shape, data: data))
            }
        case .values:
            let n = try r.count("value count", limit: limits.maxPoolEntries)
            for _ in 0..<n {
                let start = r.position
                switch try r.u8() {
                case 0: plan.values.append(.int(try r.uint()))
                case 1: plan.values.append(.float(try r.uint()))
                case 2: plan.values.append(.bool(try r.flag()))
                case 3: plan.values.append(.str(try r.uint()))
                case 4:
                    let m = try r.count("list length", limit: limits.maxListItems)
                    var items: [Int] = []
                    for _ in 0..<m { items.append(try r.uint()) }
                    plan.values.append(.list(items))
                case let t: throw .unknownTag(what: "value tag", tag: Int(t), offset: start)
                }
            }
        case .types:
            let n = try r.count("type count", limit: limits.maxPoolEntries)
            for _ in 0..<n {
                let start = r.position
                switch try r.u8() {
                case 0: plan.types.append(.int)
                case 1: plan.types.append(.float)
                case 2: plan.types.append(.bool)
                case 3: plan.types.append(.str)
                case 4:
                    let d = try dtype(&r)
                    plan.types.append(.tensor(d, try readDims(&r, limits)))
                case 5: plan.types.append(.strings(try r.uint()))
                case 6: plan.types.append(.topk(try readDims(&r, limits)))
                case 7:
                    let m = try r.count("list type length", limit: limits.maxListItems)
                    var items: [Int] = []
                    for _ in 0..<m { items.append(try r.uint()) }
                    plan.types.append(.list(items))
                case let t: throw .unknownTag(what: "type tag", tag: Int(t), offset: start)
                }
            }
        case .params:
            let n = try r.count("param count", limit: limits.maxPoolEntries)
            for _ in 0..<n {
                let name = try r.uint(), type = try r.uint()
                let start = r.position
                let binding: ParamBinding
                switch try r.u8() {
                case 0: binding = .compileTime
                case 1: binding = .runTime
                case let t: throw .unknownTag(what: "param binding", tag: Int(t), offset: start)
                }
                let value = try r.optionalUInt(), tensor = try r.optionalUInt()
                plan.params.append(PlanParam(name: name, type: type, binding: binding, value: value, tensor: tensor, span: try readSpan(&r)))
            }
        case .saves:
            let n = try r.count("save count", limit: limits.maxPoolEntries)
            for _ in 0..<n {
                let key = try r.uint(), type = try r.uint()
                plan.saves.append(PlanSave(key: key, type: type, span: try readSpan(&r)))
            }
        case .blocks:
            let n = try r.count("block count", limit: limits.maxBlocks)
            for _ in 0..<n {
                let start = r.position
                let kind: PlanBlockKind
                switch try r.u8() {
                case 0: kind = .trace
                case 1:
                    let maxTokens = try r.sint()
                    let temperature = try r.u64()
                    let topK = try r.optionalSInt()
                    let topP: UInt64? = try r.flag() ? try r.u64() : nil
                    kind = .generate(maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP, seed: try r.sint())
                case let t: throw .unknownTag(what: "block kind", tag: Int(t), offset: start)
                }
                let span = try readSpan(&r)
                let m = try r.count("invoke count", limit: limits.maxInvokes)
                var invokes: [PlanInvoke] = []
                for _ in 0..<m {
                    var prompts: [Int]?
                    if try r.flag() {
                        let k = try r.count("prompt count", limit: limits.maxRows)
                        var ps: [Int] = []
                        for _ in 0..<k { ps.append(try r.uint()) }
                        prompts = ps
                    }
                    let param = try r.optionalUInt()
                    let rowsAt = r.position
                    let rows = try r.uint()
                    guard rows <= limits.maxRows else { throw .limitExceeded(what: "rows", value: rows, limit: limits.maxRows, offset: rowsAt) }
                    invokes.append(PlanInvoke(prompts: prompts, promptParam: param, rows: rows, span: try readSpan(&r)))
                }
                plan.blocks.append(PlanBlock(kind: kind, invokes: invokes, span: span))
            }
        case .code:
            // Each instruction takes at least five bytes: opcode, type, block, invoke, phase...
            let n = try r.count("instruction count", limit: limits.maxInstructions, minBytes: 5)
            plan.code.reserveCapacity(n)
            // Code offsets count from the first instruction, as the listing prints them.
            let origin = r.position
            for _ in 0..<n {
                let start = r.position
                let byte = try r.u8()
                guard let opcode = Opcode(rawValue: byte) else { throw .unknownOpcode(byte: Int(byte), offset: start - origin) }
                var operands: [Operand] = []
                for spec in opcode.info.operands { operands.append(try readOperand(spec.kind, &r, limits)) }
                let type = try r.optionalUInt()
                let anchor = try readAnchor(&r)
                plan.code.append(PlanInstruction(opcode: opcode, operands: operands, type: type, anchor: anchor, offset: start - origin))
            }
        case .lines:
            let n = try r.count("line table length", limit: limits.maxInstructions, minBytes: 4)
            var previous = SourceSpan(start: 0, end: 0, line: 0, column: 0)
            for _ in 0..<n {
                let line = previous.line &+ (try r.sint())
                let column = try r.sint()
                let start = previous.start &+ (try r.sint())
                let end = start &+ (try r.sint())
                previous = SourceSpan(start: start, end: end, line: line, column: column)
                plan.spans.append(previous)
            }
        }
    }

    static func dtype(_ r: inout ByteReader) throws(BytecodeError) -> DType {
        let start = r.position
        let code = Int(try r.u8())
        guard code < WireCodes.dtypes.count else { throw .unknownTag(what: "dtype", tag: code, offset: start) }
        return WireCodes.dtypes[code]
    }

    static func readDims(_ r: inout ByteReader, _ limits: BytecodeLimits) throws(BytecodeError) -> [PlanDim] {
        let n = try r.count("rank", limit: limits.maxRank, minBytes: 2)
        var dims: [PlanDim] = []
        for _ in 0..<n {
            let start = r.position
            switch try r.u8() {
            case 0: dims.append(.known(try r.sint()))
            case 1: dims.append(.symbol(try r.uint()))
            case let t: throw .unknownTag(what: "dimension tag", tag: Int(t), offset: start)
            }
        }
        return dims
    }

    static func readSpan(_ r: inout ByteReader) throws(BytecodeError) -> SourceSpan {
        let start = try r.sint(), end = try r.sint(), line = try r.sint(), column = try r.sint()
        return SourceSpan(start: start, end: end, line: line, column: column)
    }

    static func readAnchor(_ r: inout ByteReader) throws(BytecodeError) -> PlanAnchor {
        let block = try r.sint()
        let invoke = try r.optionalUInt()
        let phaseCode = try r.uint()
        let phase: Phase = phaseCode == 0 ? .before : phaseCode == 1 ? .after
            : phaseCode % 2 == 0 ? .point(phaseCode / 2 - 1) : .grad(phaseCode / 2 - 1)
        let start = r.position
        let steps: StepSet
        switch try r.u8() {
        case 0: steps = .only(try r.sint())
        case 1: steps = .range(try r.sint(), try r.optionalSInt())
        case let t: throw .unknownTag(what: "steps tag", tag: Int(t), offset: start)
        }
        return PlanAnchor(block: block, invoke: invoke, phase: phase, steps: steps, guardValue: try r.optionalUInt())
    }

    /// Reads one operand as its kind says.
    static func readOperand(_ kind: OperandKind, _ r: inout ByteReader, _ limits: BytecodeLimits) throws(BytecodeError) -> Operand {
        switch kind {
        case .reg, .value, .tensor, .number, .string, .point, .module:
            return .int(try r.uint())
        case .axis, .newAxis, .count, .integer:
            return .int(try r.sint())
        case .optionalAxis:
            return try r.optionalSInt().map { .int($0) } ?? .none
        case .flag:
            return .int(try r.flag() ? 1 : 0)
        case .unaryFn, .binaryFn, .reduceFn, .assignFn, .dtype, .randomFn:
            let start = r.position
            let code = Int(try r.u8())
            guard code < WireCodes.count(of: kind) ?? 0 else { throw .unknownTag(what: "\(kind.label) code", tag: code, offset: start) }
            return .int(code)
        case .registers:
            let n = try r.count("register list length", limit: limits.maxListItems)
            var rs: [Int] = []
            for _ in 0..<n { rs.append(try r.uint()) }
            return .registers(rs)
        case .index:
            let n = try r.count("index length", limit: limits.maxRank, minBytes: 2)
            var items: [PlanIndexItem] = []
            for _ in 0..<n {
                let start = r.position
                switch try r.u8() {
                case 0: items.append(.at(try r.uint()))
                case 1: items.append(.gather(try r.uint()))
                case 2: items.append(.slice(try r.optionalUInt(), try r.optionalUInt(), try r.optionalUInt()))
                case let t: throw .unknownTag(what: "index item tag", tag: Int(t), offset: start)
                }
            }
            return .index(items)
        case .shape:
            return .shape(try readDims(&r, limits))
        }
    }
}
