import NSIIR

extension Pass {
    /// Dead-code elimination: a pure instruction whose value no effect (write, save,
    /// skip), guard or live instruction uses is removed, reads included. Params stay:
    /// they are the plan's interface and name the prompts of invokes.
    public static let dce = Pass(name: "dce", verb: "removed") { program in
        let code = program.instructions
        var live = Array(repeating: false, count: code.count)
        // Uses point backwards, so one sweep from the end finds every live value.
        for i in code.indices.reversed() {
            let ins = code[i]
            if ins.op.isEffect { live[i] = true }
            if case .param = ins.op { live[i] = true }
            guard live[i] else { continue }
            for v in ins.uses { live[v.index] = true }
        }
        let removed = live.filter { !$0 }.count
        return (removed == 0 ? program : program.compacted(keep: live), removed)
    }
}
