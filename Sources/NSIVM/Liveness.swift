import NSIIR

/// When each register may be let go: after the instruction that reads it last, in the
/// order the VM runs them (blocks in turn; in a trace, before the pass, then points in
/// forward order, then after it; program order within each). A value a generate block
/// defines or reads is kept, since its instructions run again at every step; params are
/// kept, since invokes read their prompts from them.
struct Liveness {
    /// For each instruction: the registers whose last use it is.
    let releaseAfter: [[Int]]

    init(_ program: Program) {
        let code = program.instructions
        func isGenerate(_ block: Int) -> Bool {
            guard block >= 0 else { return false }
            if case .generate = program.blocks[block].kind { return true }
            return false
        }
        func order(_ i: Int) -> (Int, Int, Int) {
            let a = code[i].anchor
            let phase: Int
            switch a.phase {
            case .before: phase = 0
            case .point(let p): phase = 1 + p
            case .after: phase = Int.max
            }
            return (a.block, phase, i)
        }
        var last: [Int?] = code.indices.map { $0 }
        var kept = code.map { ins -> Bool in
            if case .param = ins.op { return true }
            return ins.type == nil || isGenerate(ins.anchor.block)
        }
        for (i, ins) in code.enumerated() {
            for v in ins.uses where v.index >= 0 && v.index < code.count {
                if isGenerate(ins.anchor.block) { kept[v.index] = true }
                if let l = last[v.index], order(i) > order(l) { last[v.index] = i }
            }
        }
        var release = Array(repeating: [Int](), count: code.count)
        for v in code.indices where !kept[v] {
            if let l = last[v] { release[l].append(v) }
        }
        releaseAfter = release
    }
}

extension Execution {
    /// Drops the registers whose last use `ins` was.
    func release(after ins: Instruction) {
        for r in liveness.releaseAfter[ins.id.index] {
            if let old = registers[r] { registerBytes -= old.bytes }
            registers[r] = nil
        }
    }
}
