import NSIIR
import NSITensor

/// Lowers a `Program` to a `Plan`: pools are filled in first-use order while walking the
/// params, saves, blocks and instructions in their order, so the same program always
/// lowers to the same plan. Pool entries are shared by exact bytes (strings by UTF-8,
/// floats by bit pattern), never by Swift equality, which would merge canonically
/// equivalent strings or 0.0 and -0.0.
struct Lowering {
    var plan: Plan
    private var stringIndex: [[UInt8]: Int] = [:]
    private var intIndex: [Int: Int] = [:]
    private var floatIndex: [UInt64: Int] = [:]
    private var tensorIndex: [PlanTensor: Int] = [:]
    private var valueIndex: [PlanValue: Int] = [:]
    private var typeIndex: [PlanType: Int] = [:]

    static func lower(_ program: Program) throws(BytecodeError) -> Plan {
        var l = Lowering(plan: Plan(signatureHash: program.signatureHash))
        for p in program.params {
            l.plan.params.append(PlanParam(name: l.string(p.name), type: try l.type(p.type), binding: p.binding,
                                           value: try p.value.map { (v) throws(BytecodeError) in try l.value(v) },
                                           tensor: p.tensorDefault.map { l.tensor($0.shape, $0.data) }, span: p.range))
        }
        for s in program.saves {
            l.plan.saves.append(PlanSave(key: l.string(s.key), type: try l.type(s.type), span: s.range))
        }
        for b in program.blocks { l.plan.blocks.append(try l.block(b)) }
        for (i, ins) in program.instructions.enumerated() {
            guard ins.id.index == i else { throw .notEncodable("instruction \(i) has id \(ins.id); ids must be dense and in order") }
            let (opcode, operands) = try l.operands(of: ins.op)
            let anchor = try l.anchor(ins.anchor)
            l.plan.code.append(PlanInstruction(opcode: opcode, operands: operands,
                                               type: try ins.type.map { (t) throws(BytecodeError) in try l.type(t) }, anchor: anchor))
            l.plan.spans.append(ins.range)
        }
        return l.plan
    }

    // MARK: Pools

    mutating func string(_ s: String) -> Int {
        let key = Array(s.utf8)
        if let i = stringIndex[key] { return i }
        plan.strings.append(s)
        stringIndex[key] = plan.strings.count - 1
        return plan.strings.count - 1
    }

    mutating func int(_ v: Int) -> Int {
        if let i = intIndex[v] { return i }
        plan.ints.append(v)
        intIndex[v] = plan.ints.count - 1
        return plan.ints.count - 1
    }

    mutating func float(_ v: Double) -> Int {
        let bits = v.bitPattern
        if let i = floatIndex[bits] { return i }
        plan.floats.append(bits)
        floatIndex[bits] = plan.floats.count - 1
        return plan.floats.count - 1
    }

    mutating func tensor(_ shape: [Int], _ data: [Float]) -> Int {
        let t = PlanTensor(shape: shape, data: data.map(\.bitPattern))
        if let i = tensorIndex[t] { return i }
        plan.tensors.append(t)
        tensorIndex[t] = plan.tensors.count - 1
        return plan.tensors.count - 1
    }

    mutating func value(_ v: ConstValue) throws(BytecodeError) -> Int {
        let entry: PlanValue
        switch v {
        case .int(let i): entry = .int(int(i))
        case .float(let f): entry = .float(float(f))
        case .bool(let b): entry = .bool(b)
        case .str(let s): entry = .str(string(s))
        case .list(let items):
            var children: [Int] = []
            for item in items { children.append(try value(item)) }
            entry = .list(children)
        }
        if let i = valueIndex[entry] { return i }
        plan.values.append(entry)
        valueIndex[entry] = plan.values.count - 1
        return plan.values.count - 1
    }

    mutating func dims(_ dims: [ShapeDim]) -> [PlanDim] {
        dims.map { d in
            switch d {
            case .known(let n): return .known(n)
            case .symbol(let s): return .symbol(string(s))
            }
        }
    }

    mutating func type(_ t: ValueType) throws(BytecodeError) -> Int {
        let entry: PlanType
        switch t {
        case .int: entry = .int
        case .float: entry = .float
        case .bool: entry = .bool
        case .str: entry = .str
        case .tensor(let d, let s): entry = .tensor(d, dims(s))
        case .strings(let n): entry = .strings(try nonNegative(n, "a str[n] type"))
        case .topk(let s): entry = .topk(dims(s))
        case .list(let items):
            var children: [Int] = []
            for item in items { children.append(try type(item)) }
            entry = .list(children)
        }
        if let i = typeIndex[entry] { return i }
        plan.types.append(entry)
        typeIndex[entry] = plan.types.count - 1
        return plan.types.count - 1
    }

    // MARK: Tables

    mutating func block(_ b: ProgramBlock) throws(BytecodeError) -> PlanBlock {
        let kind: PlanBlockKind
        switch b.kind {
        case .trace: kind = .trace
        case .generate(let o):
            kind = .generate(maxTokens: o.maxTokens, temperature: o.temperature.bitPattern, topK: o.topK,
                             topP: o.topP?.bitPattern, seed: o.seed)
        }
        var invokes: [PlanInvoke] = []
        for inv in b.invokes {
            invokes.append(PlanInvoke(prompts: inv.prompts.map { $0.map { string($0) } }, promptParam: inv.promptParam.map { string($0) },
                                      rows: try nonNegative(inv.rows, "rows of an invoke"), span: inv.range))
        }
        return PlanBlock(kind: kind, invokes: invokes, span: b.range)
    }

    func anchor(_ a: Anchor) throws(BytecodeError) -> PlanAnchor {
        if let p = a.phase.point { _ = try nonNegative(p, "a point phase") }
        return PlanAnchor(block: a.block, invoke: try a.invoke.map { (i) throws(BytecodeError) in try nonNegative(i, "an invoke") },
                          phase: a.phase, steps: a.steps,
                          guardValue: try a.guardValue.map { (g) throws(BytecodeError) in try register(g) })
    }

    // MARK: Operands (the binding of each `Op` case to its row of the opcode table)

    func register(_ v: ValueID) throws(BytecodeError) -> Int { try nonNegative(v.index, "register \(v)") }

    func nonNegative(_ v: Int, _ what: String) throws(BytecodeError) -> Int {
        guard v >= 0 else { throw .notEncodable("\(what) is negative (\(v))") }
        return v
    }

    func reg(_ v: ValueID) throws(BytecodeError) -> Operand { .int(try register(v)) }

    func regs(_ vs: [ValueID]) throws(BytecodeError) -> Operand {
        var out: [Int] = []
        for v in vs { out.append(try register(v)) }
        return .registers(out)
    }

    func index(_ items: [IndexItem]) throws(BytecodeError) -> Operand {
        var out: [PlanIndexItem] = []
        for item in items {
            switch item {
            case .at(let v): out.append(.at(try register(v)))
            case .gather(let v): out.append(.gather(try register(v)))
            case .slice(let a, let b, let c):
                out.append(.slice(try a.map { (v) throws(BytecodeError) in try register(v) },
                                  try b.map { (v) throws(BytecodeError) in try register(v) },
                                  try c.map { (v) throws(BytecodeError) in try register(v) }))
            }
        }
        return .index(out)
    }

    static func code<T: Equatable>(_ v: T, in list: [T]) throws(BytecodeError) -> Operand {
        guard let i = list.firstIndex(of: v) else { throw .notEncodable("\(v) has no wire code") }
        return .int(i)
    }

    mutating func operands(of op: Op) throws(BytecodeError) -> (Opcode, [Operand]) {
        switch op {
        case .constant(let c): return (.constant, [.int(try value(c))])
        case .tensorConstant(let shape, let data): return (.tensorConstant, [.int(tensor(shape, data))])
        case .param(let name): return (.param, [.int(string(name))])
        case .readPoint(let p): return (.readPoint, [.int(try nonNegative(p, "a point id"))])
        case .tokens(let s): return (.tokens, [try reg(s)])
        case .resultIds: return (.resultIds, [])
        case .resultText: return (.resultText, [])
        case .attentionMask: return (.attentionMask, [])
        case .unary(let fn, let a): return (.unary, [try Self.code(fn, in: WireCodes.unary), try reg(a)])
        case .binary(let fn, let a, let b): return (.binary, [try Self.code(fn, in: WireCodes.binary), try reg(a), try reg(b)])
        case .index(let a, let items): return (.index, [try reg(a), try index(items)])
        case .reduce(let fn, let a, let dim, let keep):
            return (.reduce, [try Self.code(fn, in: WireCodes.reduce), try reg(a), dim.map { .int($0) } ?? .none, .int(keep ? 1 : 0)])
        case .softmax(let a, let dim, let log): return (.softmax, [try reg(a), .int(dim), .int(log ? 1 : 0)])
        case .topk(let a, let k, let dim): return (.topk, [try reg(a), .int(k), .int(dim)])
        case .topkValues(let a): return (.topkValues, [try reg(a)])
        case .topkIndices(let a): return (.topkIndices, [try reg(a)])
        case .reshape(let a, let shape): return (.reshape, [try reg(a), .shape(dims(shape))])
        case .transpose(let a, let x, let y): return (.transpose, [try reg(a), .int(x), .int(y)])
        case .unsqueeze(let a, let d): return (.unsqueeze, [try reg(a), .int(d)])
        case .squeeze(let a, let d): return (.squeeze, [try reg(a), d.map { .int($0) } ?? .none])
        case .clone(let a): return (.clone, [try reg(a)])
        case .cast(let a, let t): return (.cast, [try reg(a), try Self.code(t, in: WireCodes.dtypes)])
        case .cat(let parts, let d): return (.cat, [try regs(parts), .int(d)])
        case .stack(let parts, let d): return (.stack, [try regs(parts), .int(d)])
        case .select(let c, let a, let b): return (.select, [try reg(c), try reg(a), try reg(b)])
        case .cosine(let a, let b, let d): return (.cosine, [try reg(a), try reg(b), .int(d)])
        case .gatherAlong(let a, let d, let i): return (.gather, [try reg(a), .int(d), try reg(i)])
        case .fill(let shape, let v): return (.fill, [.shape(dims(shape)), .int(float(v))])
        case .fillLike(let a, let v): return (.fillLike, [try reg(a), .int(float(v))])
        case .callModule(let name, let a): return (.callModule, [.int(string(name)), try reg(a)])
        case .prompt(let a): return (.prompt, [try reg(a)])
        case .nonzero(let a): return (.nonzero, [try reg(a)])
        case .weight(let name): return (.weight, [.int(string(name))])
        case .random(let shape, let d, let seed):
            switch d {
            case .normal: return (.random, [.shape(dims(shape)), .int(0), .int(0), .int(0), .int(seed)])
            case .uniform: return (.random, [.shape(dims(shape)), .int(1), .int(0), .int(0), .int(seed)])
            case .integers(let lo, let hi): return (.random, [.shape(dims(shape)), .int(2), .int(lo), .int(hi), .int(seed)])
            }
        case .write(let p, let items, let fn, let v):
            return (.write, [.int(try nonNegative(p, "a point id")), try index(items), try Self.code(fn, in: WireCodes.assign), try reg(v)])
        case .update(let a, let items, let fn, let v):
            return (.update, [try reg(a), try index(items), try Self.code(fn, in: WireCodes.assign), try reg(v)])
        case .save(let key, let a): return (.save, [.int(string(key)), try reg(a)])
        case .skip(let m): return (.skip, [.int(try nonNegative(m, "a module id"))])
        case .detach(let a): return (.detach, [try reg(a)])
        case .backward(let a): return (.backward, [try reg(a)])
        }
    }
}
