import NSIIR
import NSITensor

/// Builds the `Program` of a verified plan. Every index was bounded by the verifier, so
/// this only translates.
enum Raising {
    static func raise(_ plan: Plan) -> Program {
        let r = Raiser(plan: plan)
        let params = plan.params.map { p in
            ParamInfo(name: plan.strings[p.name], type: r.type(p.type), binding: p.binding, value: p.value.map(r.value),
                      tensorDefault: p.tensor.map { (plan.tensors[$0].shape, r.tensors[$0]) },
                      range: p.span)
        }
        let saves = plan.saves.map { SaveInfo(key: plan.strings[$0.key], type: r.type($0.type), range: $0.span) }
        let blocks = plan.blocks.map { b -> ProgramBlock in
            let kind: BlockKind
            switch b.kind {
            case .trace: kind = .trace
            case .generate(let maxTokens, let temperature, let topK, let topP, let seed):
                kind = .generate(GenerateOptions(maxTokens: maxTokens, temperature: Double(bitPattern: temperature), topK: topK,
                                                 topP: topP.map(Double.init(bitPattern:)), seed: seed))
            }
            let invokes = b.invokes.map { inv in
                Invoke(prompts: inv.prompts.map { $0.map { plan.strings[$0] } }, promptParam: inv.promptParam.map { plan.strings[$0] },
                       rows: inv.rows, range: inv.span)
            }
            return ProgramBlock(kind: kind, invokes: invokes, range: b.span)
        }
        let instructions = plan.code.enumerated().map { i, ins in
            Instruction(id: ValueID(i), op: r.op(ins), type: ins.type.map(r.type),
                        anchor: Anchor(block: ins.anchor.block, invoke: ins.anchor.invoke, phase: ins.anchor.phase,
                                       steps: ins.anchor.steps, guardValue: ins.anchor.guardValue.map(ValueID.init)),
                        range: plan.spans[i])
        }
        return Program(params: params, blocks: blocks, instructions: instructions, saves: saves, signatureHash: plan.signatureHash)
    }
}

/// Pool entries are raised once each, in order (lists refer to earlier entries), so an
/// entry used many times is shared rather than rebuilt.
struct Raiser {
    let plan: Plan
    let values: [ConstValue]
    let types: [ValueType]
    let tensors: [[Float]]

    init(plan: Plan) {
        self.plan = plan
        var values: [ConstValue] = []
        values.reserveCapacity(plan.values.count)
        for v in plan.values {
            switch v {
            case .int(let k): values.append(.int(plan.ints[k]))
            case .float(let k): values.append(.float(Double(bitPattern: plan.floats[k])))
            case .bool(let b): values.append(.bool(b))
            case .str(let k): values.append(.str(plan.strings[k]))
            case .list(let items): values.append(.list(items.map { values[$0] }))
            }
        }
        self.values = values
        var types: [ValueType] = []
        types.reserveCapacity(plan.types.count)
        let strings = plan.strings
        func dims(_ d: [PlanDim]) -> [ShapeDim] { Self.dims(d, strings) }
        for t in plan.types {
            switch t {
            case .int: types.append(.int)
            case .float: types.append(.float)
            case .bool: types.append(.bool)
            case .str: types.append(.str)
            case .tensor(let d, let s): types.append(.tensor(d, dims(s)))
            case .strings(let n): types.append(.strings(n))
            case .topk(let s): types.append(.topk(values: dims(s)))
            case .list(let items): types.append(.list(items.map { types[$0] }))
            }
        }
        self.types = types
        tensors = plan.tensors.map { $0.data.map(Float.init(bitPattern:)) }
    }

    func value(_ i: Int) -> ConstValue { values[i] }

    func dims(_ dims: [PlanDim]) -> [ShapeDim] { Self.dims(dims, plan.strings) }

    /// A plan's dimensions as the graph's: symbols named by the plan's strings.
    static func dims(_ dims: [PlanDim], _ strings: [String]) -> [ShapeDim] {
        dims.map { d in
            switch d {
            case .known(let n): return .known(n)
            case .symbol(let s): return .symbol(strings[s])
            }
        }
    }

    func type(_ i: Int) -> ValueType { types[i] }

    func index(_ items: [PlanIndexItem]) -> [IndexItem] {
        items.map { item in
            switch item {
            case .at(let r): return .at(ValueID(r))
            case .gather(let r): return .gather(ValueID(r))
            case .slice(let a, let b, let c): return .slice(a.map(ValueID.init), b.map(ValueID.init), c.map(ValueID.init))
            }
        }
    }

    /// The binding of each opcode's operands back to its `Op` case (the inverse of
    /// `Lowering.operands(of:)`).
    func op(_ ins: PlanInstruction) -> Op {
        let o = ins.operands
        func n(_ k: Int) -> Int { if case .int(let v) = o[k] { return v }; return 0 }
        func v(_ k: Int) -> ValueID { ValueID(n(k)) }
        func optional(_ k: Int) -> Int? { if case .int(let v) = o[k] { return v }; return nil }
        func regs(_ k: Int) -> [ValueID] { if case .registers(let rs) = o[k] { return rs.map(ValueID.init) }; return [] }
        func items(_ k: Int) -> [IndexItem] { if case .index(let its) = o[k] { return index(its) }; return [] }
        func shape(_ k: Int) -> [ShapeDim] { if case .shape(let d) = o[k] { return dims(d) }; return [] }
        func float(_ k: Int) -> Double { Double(bitPattern: plan.floats[n(k)]) }
        switch ins.opcode {
        case .constant: return .constant(value(n(0)))
        case .tensorConstant:
            let t = plan.tensors[n(0)]
            return .tensorConstant(shape: t.shape, data: tensors[n(0)])
        case .param: return .param(plan.strings[n(0)])
        case .readPoint: return .readPoint(n(0))
        case .tokens: return .tokens(v(0))
        case .resultIds: return .resultIds
        case .resultText: return .resultText
        case .attentionMask: return .attentionMask
        case .unary: return .unary(WireCodes.unary[n(0)], v(1))
        case .binary: return .binary(WireCodes.binary[n(0)], v(1), v(2))
        case .index: return .index(v(0), items(1))
        case .reduce: return .reduce(WireCodes.reduce[n(0)], v(1), dim: optional(2), keepdim: n(3) == 1)
        case .softmax: return .softmax(v(0), dim: n(1), log: n(2) == 1)
        case .topk: return .topk(v(0), k: n(1), dim: n(2))
        case .topkValues: return .topkValues(v(0))
        case .topkIndices: return .topkIndices(v(0))
        case .reshape: return .reshape(v(0), shape(1))
        case .transpose: return .transpose(v(0), n(1), n(2))
        case .unsqueeze: return .unsqueeze(v(0), n(1))
        case .squeeze: return .squeeze(v(0), optional(1))
        case .clone: return .clone(v(0))
        case .cast: return .cast(v(0), WireCodes.dtypes[n(1)])
        case .cat: return .cat(regs(0), dim: n(1))
        case .stack: return .stack(regs(0), dim: n(1))
        case .select: return .select(v(0), v(1), v(2))
        case .cosine: return .cosine(v(0), v(1), dim: n(2))
        case .gather: return .gatherAlong(v(0), dim: n(1), index: v(2))
        case .fill: return .fill(shape: shape(0), value: float(1))
        case .fillLike: return .fillLike(v(0), value: float(1))
        case .callModule: return .callModule(plan.strings[n(0)], v(1))
        case .weight: return .weight(plan.strings[n(0)])
        case .prompt: return .prompt(v(0))
        case .nonzero: return .nonzero(v(0))
        case .random:
            let d: RandomDistribution = n(1) == 0 ? .normal : n(1) == 1 ? .uniform : .integers(low: n(2), high: n(3))
            return .random(shape: shape(0), d, seed: n(4))
        case .write: return .write(point: n(0), index: items(1), fn: WireCodes.assign[n(2)], value: v(3))
        case .update: return .update(v(0), index: items(1), fn: WireCodes.assign[n(2)], value: v(3))
        case .save: return .save(key: plan.strings[n(0)], v(1))
        case .skip: return .skip(module: n(0))
        case .detach: return .detach(v(0))
        case .backward: return .backward(v(0))
        }
    }
}
