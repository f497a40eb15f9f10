import NSIIR
import NSITensor

/// Checks each instruction in order: its operands by kind (from the opcode table), its
/// anchor, its result type, and the rules of its opcode. Only earlier instructions are
/// ever looked at, so every register operand refers backwards (SSA) and has been checked.
final class CodeVerifier {
    let verifier: Verifier
    let plan: Plan
    let target: PlanTarget
    let limits: BytecodeLimits
    /// Save instructions in order, matched against the save table at the end.
    var saveKeys: [(key: Int, type: Int?)] = []
    /// The (block, invoke) pairs with a `backward` so far: one each, before any gradient.
    var backwards: Set<[Int]> = []
    /// Invokes (block, invoke) whose prompt an instruction names.
    var prompted: Set<[Int]> = []

    init(verifier: Verifier) {
        self.verifier = verifier
        plan = verifier.plan
        target = verifier.target
        limits = verifier.limits
    }

    func verify() throws(BytecodeError) {
        for i in plan.code.indices { try check(i) }
        for (b, block) in plan.blocks.enumerated() {
            for (k, inv) in block.invokes.enumerated() where inv.prompts == nil && inv.promptParam == nil && !prompted.contains([b, k]) {
                throw .badBlock(block: b, detail: "invoke \(k) has no prompts, no prompt param and no prompt instruction")
            }
        }
        guard saveKeys.count == plan.saves.count else {
            throw .saveMismatch(detail: "\(saveKeys.count) save instructions for \(plan.saves.count) table entries")
        }
        for (s, entry) in zip(saveKeys, plan.saves) {
            guard plan.strings[s.key] == plan.strings[entry.key] else {
                throw .saveMismatch(detail: "the code saves \"\(plan.strings[s.key])\" where the table has \"\(plan.strings[entry.key])\"")
            }
            guard s.type.map({ plan.types[$0] }) == plan.types[entry.type] else {
                throw .saveMismatch(detail: "\"\(plan.strings[entry.key])\" is saved as \(s.type.map { plan.describe(plan.types[$0]) } ?? "nothing"), the table says \(plan.describe(plan.types[entry.type]))")
            }
        }
    }

    func type(of register: Int) -> PlanType? { plan.code[register].type.map { plan.types[$0] } }

    // MARK: One instruction

    func check(_ i: Int) throws(BytecodeError) {
        let ins = plan.code[i]
        let at = CodeLocation(index: i, offset: ins.offset)
        let info = ins.opcode.info
        guard ins.operands.count == info.operands.count else {
            throw .operandType(at: at, operand: "count", expected: "\(info.operands.count) operands", found: "\(ins.operands.count)")
        }
        // Result type.
        let result: PlanType?
        if info.result == .effect {
            guard ins.type == nil else { throw .effectWithType(at: at) }
            result = nil
        } else {
            guard let t = ins.type else { throw .missingType(at: at) }
            try verifier.poolIndex(t, plan.types.count, "the type of \(at)")
            try verifier.expand(type: t)
            result = plan.types[t]
            switch (info.result, plan.types[t]) {
            case (.tensor, .tensor), (.topk, .topk), (.value, _): break
            default: throw .resultType(at: at, expected: info.result.rawValue, found: plan.describe(plan.types[t]))
            }
        }
        try checkAnchor(ins.anchor, at)
        // Operands, by kind.
        for (spec, operand) in zip(info.operands, ins.operands) {
            try checkOperand(spec, operand, ins, at)
        }
        try checkRules(ins, result, at)
        try checkDerived(ins, result, at)
    }

    func checkAnchor(_ a: PlanAnchor, _ at: CodeLocation) throws(BytecodeError) {
        guard a.block >= -1 && a.block < plan.blocks.count else { throw .blockOutOfRange(at: at, block: a.block, count: plan.blocks.count) }
        if let inv = a.invoke {
            guard a.block >= 0 else { throw .misplaced(at: at, detail: "an instruction outside every block names invoke \(inv)") }
            let count = plan.blocks[a.block].invokes.count
            guard inv < count else { throw .invokeOutOfRange(at: at, invoke: inv, count: count) }
        }
        switch a.phase {
        case .point(let p), .grad(let p):
            guard p >= 0 && p < target.pointRanks.count else { throw .pointOutOfRange(at: at, point: p, count: target.pointRanks.count) }
            guard a.block >= 0 else { throw .misplaced(at: at, detail: "an instruction outside every block runs at a point") }
            if case .grad = a.phase {
                if case .generate = plan.blocks[a.block].kind { throw .misplaced(at: at, detail: "a gradient is read or written in a generate block") }
                guard backwards.contains([a.block, a.invoke ?? -1]) else {
                    throw .misplaced(at: at, detail: "a gradient is used before its invoke's backward")
                }
            }
        case .after:
            guard a.block >= 0 else { throw .misplaced(at: at, detail: "an instruction outside every block runs after a pass") }
        case .before: break
        }
        let bound = limits.maxDimension
        switch a.steps {
        case .only(let n):
            guard n >= 0 && n <= bound else { throw .badSteps(at: at, steps: a.steps.description) }
        case .range(let lo, let hi):
            guard lo >= 0 && lo <= bound, hi.map({ $0 > lo && $0 <= bound }) ?? true else { throw .badSteps(at: at, steps: a.steps.description) }
        }
        if a.block >= 0 {
            switch plan.blocks[a.block].kind {
            case .trace:
                guard a.steps.first == 0 && a.steps.isSingle else { throw .badSteps(at: at, steps: a.steps.description + " in a trace") }
            case .generate(let maxTokens, _, _, _, _):
                guard a.steps.first < maxTokens else { throw .badSteps(at: at, steps: a.steps.description + " beyond max_tokens \(maxTokens)") }
            }
        } else {
            guard a.steps == .prompt else { throw .badSteps(at: at, steps: a.steps.description + " outside every block") }
        }
        if let g = a.guardValue {
            guard g < at.index else { throw .guardNotEarlier(at: at, guard: g) }
            guard let t = type(of: g) else { throw .effectOperand(at: at, register: g) }
            guard oneElement(t) else { throw .guardNotBool(at: at, guard: g, type: plan.describe(t)) }
            try checkCausality(g, a, at)
        }
    }

    /// A condition is a bool, a number or a tensor of one element (as the checker allows).
    func oneElement(_ t: PlanType) -> Bool {
        guard let dims = t.dims else { return false }
        return dims.allSatisfy { $0 == .known(1) }
    }

    /// A value used by an instruction must exist when the instruction runs: from an
    /// earlier block, or from this block's pass no later than the instruction's phase
    /// (a value of step 0 used at later steps only is there before those passes), and
    /// under no condition the instruction's own does not imply.
    func checkCausality(_ r: Int, _ a: PlanAnchor, _ at: CodeLocation) throws(BytecodeError) {
        let o = plan.code[r].anchor
        switch a.causality(of: o) {
        case .holds: break
        case .userOutsideBlocks: throw .causality(at: at, register: r, detail: "comes from block \(o.block), but the instruction is outside every block")
        case .laterBlock: throw .causality(at: at, register: r, detail: "comes from block \(o.block), after this one")
        case .laterPhase(let p): throw .causality(at: at, register: r, detail: "is computed at \(p), after this instruction runs (\(a.phase))")
        case .laterStep(let s): throw .causality(at: at, register: r, detail: "is first computed at step \(s), after this instruction first runs (\(a.steps))")
        case .otherGuard: break
        }
        let conjunction = WireCodes.binary.firstIndex(of: .and)
        let covered = Causality.guardImplies(a.guardValue, o.guardValue) { g in
            guard g >= 0, g < at.index else { return nil }
            let c = self.plan.code[g]
            guard c.opcode == .binary, c.operands.count == 3, case .int(let fn) = c.operands[0], fn == conjunction,
                  case .int(let x) = c.operands[1], case .int(let y) = c.operands[2] else { return nil }
            return (x, y)
        }
        guard covered else {
            throw .causality(at: at, register: r, detail: "is computed under the condition %\(o.guardValue ?? -1), which this instruction's does not imply")
        }
    }

    /// A register operand: earlier, a value, of the class the table asks for, causal.
    func checkRegister(_ r: Int, _ cls: RegisterClass, _ name: String, _ ins: PlanInstruction, _ at: CodeLocation) throws(BytecodeError) {
        guard r < at.index else { throw .forwardReference(at: at, register: r) }
        guard let t = type(of: r) else { throw .effectOperand(at: at, register: r) }
        let ok: Bool
        switch cls {
        case .any: ok = true
        case .numeric: ok = t.isNumeric
        case .operand: ok = t.isNumeric || t == .str
        case .str: ok = t == .str
        case .topk: if case .topk = t { ok = true } else { ok = false }
        }
        guard ok else { throw .operandType(at: at, operand: name, expected: cls.rawValue, found: plan.describe(t)) }
        try checkCausality(r, ins.anchor, at)
    }

    func checkOperand(_ spec: OperandSpec, _ operand: Operand, _ ins: PlanInstruction, _ at: CodeLocation) throws(BytecodeError) {
        let name = spec.name
        func int() throws(BytecodeError) -> Int {
            guard case .int(let n) = operand else { throw .operandType(at: at, operand: name, expected: spec.kind.label, found: "\(operand)") }
            return n
        }
        switch spec.kind {
        case .reg(let cls):
            try checkRegister(try int(), cls, name, ins, at)
        case .registers:
            guard case .registers(let rs) = operand, !rs.isEmpty else {
                throw .operandType(at: at, operand: name, expected: "at least one tensor", found: "none")
            }
            for r in rs { try checkRegister(r, .numeric, name, ins, at) }
        case .value:
            let k = try int()
            try verifier.poolIndex(k, plan.values.count, "operand \(name) of \(at)")
            try verifier.expand(value: k)
        case .tensor:
            let k = try int()
            try verifier.poolIndex(k, plan.tensors.count, "operand \(name) of \(at)")
            try verifier.expand(tensor: k)
        case .number:
            try verifier.poolIndex(try int(), plan.floats.count, "operand \(name) of \(at)")
        case .string(let role):
            let s = try int()
            try verifier.poolIndex(s, plan.strings.count, "operand \(name) of \(at)")
            let text = plan.strings[s]
            let known: Bool
            switch role {
            case .param: known = plan.params.contains { plan.strings[$0.name] == text }
            case .callable: known = target.callables.contains(text)
            case .weight: known = target.weights[text] != nil
            case .saveKey: known = plan.saves.contains { plan.strings[$0.key] == text }
            }
            guard known else { throw .unknownName(at: at, role: role.rawValue, name: text) }
        case .point:
            let p = try int()
            guard p >= 0 && p < target.pointRanks.count else { throw .pointOutOfRange(at: at, point: p, count: target.pointRanks.count) }
        case .module:
            let m = try int()
            guard m >= 0 && m < target.moduleNames.count else { throw .moduleOutOfRange(at: at, module: m, count: target.moduleNames.count) }
        case .axis, .newAxis, .optionalAxis:
            guard case .int(let d) = operand else { return }   // an absent optional axis
            guard let rank = registerRank(ins) else { return }
            let limit = spec.kind == .newAxis ? rank + 1 : rank
            guard d >= 0 && d < limit else { throw .axisOutOfRange(at: at, axis: d, rank: rank) }
        case .count:
            let k = try int()
            guard k >= 1 && k <= limits.maxDimension else { throw .badTopK(at: at, k: k, detail: "k must be at least 1") }
        case .integer:
            _ = try int()
        case .flag, .unaryFn, .binaryFn, .reduceFn, .assignFn, .dtype, .randomFn:
            let code = try int()
            let limit = spec.kind == .flag ? 2 : (WireCodes.count(of: spec.kind) ?? 0)
            guard code >= 0 && code < limit else { throw .operandType(at: at, operand: name, expected: spec.kind.label, found: String(code)) }
        case .index:
            guard case .index(let items) = operand else { throw .operandType(at: at, operand: name, expected: "index", found: "\(operand)") }
            for item in items {
                switch item {
                case .at(let r):
                    try checkRegister(r, .numeric, name, ins, at)
                    guard type(of: r) == .int else { throw .badIndex(at: at, detail: "position %\(r) is not an int") }
                case .gather(let r):
                    try checkRegister(r, .numeric, name, ins, at)
                    guard let t = type(of: r), t.isIntegral, case .tensor = t else { throw .badIndex(at: at, detail: "gather %\(r) is not an integer tensor") }
                case .slice(let a, let b, let c):
                    for r in [a, b, c].compactMap({ $0 }) {
                        try checkRegister(r, .numeric, name, ins, at)
                        guard type(of: r) == .int else { throw .badIndex(at: at, detail: "slice bound %\(r) is not an int") }
                    }
                }
            }
        case .shape:
            guard case .shape(let dims) = operand else { throw .operandType(at: at, operand: name, expected: "shape", found: "\(operand)") }
            try verifier.checkDims(dims, "\(at)") { detail throws(BytecodeError) in throw .badShape(at: at, detail: detail) }
        }
    }

    /// The rank axes refer to: the largest rank of the register operands (they agree for
    /// cat and stack; cosine's axis is in the broadcast shape). Nil when none is a tensor.
    func registerRank(_ ins: PlanInstruction) -> Int? {
        var rank: Int?
        for (spec, operand) in zip(ins.opcode.info.operands, ins.operands) {
            switch (spec.kind, operand) {
            case (.reg, .int(let r)) where r >= 0 && r < plan.code.count:
                if let k = type(of: r)?.rank { rank = max(rank ?? 0, k) }
            case (.registers, .registers(let rs)):
                for r in rs where r >= 0 && r < plan.code.count { if let k = type(of: r)?.rank { rank = max(rank ?? 0, k) } }
            default: break
            }
        }
        return rank
    }
}
