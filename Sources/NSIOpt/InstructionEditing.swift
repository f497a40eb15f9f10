import NSIIR

extension Instruction {
    func with(id: ValueID? = nil, op: Op? = nil, anchor: Anchor? = nil) -> Instruction {
        Instruction(id: id ?? self.id, op: op ?? self.op, type: type, anchor: anchor ?? self.anchor, range: range)
    }

    /// The instruction with its operands and guard renamed.
    func renamed(_ f: (ValueID) -> ValueID) -> Instruction {
        var a = anchor
        a.guardValue = a.guardValue.map(f)
        return with(op: op.mapOperands(f), anchor: a)
    }
}
