/// When an instruction runs: its block (-1 outside every block), its phase in that
/// block's forward pass and its steps. The causality rule is defined once, here, for the
/// checker (which places values), the IR verifier and the bytecode verifier.
public protocol Scheduled {
    var block: Int { get }
    var phase: Phase { get }
    var steps: StepSet { get }
}

/// Whether a value exists when an instruction that uses it runs.
public enum Causality: Equatable, Sendable {
    case holds
    /// The value comes from a block, and the user runs outside every block.
    case userOutsideBlocks
    /// The value comes from a later block.
    case laterBlock
    /// The value is computed at this phase of the pass, after the user runs.
    case laterPhase(Phase)
    /// The value is first computed at a later step than the user first runs.
    case laterStep(Int)
    /// The value is computed under a condition the user's own does not imply, so it may
    /// not exist when the user runs.
    case otherGuard

    /// Whether a user under guard `user` may read a value computed under guard `operand`:
    /// no guard on the value, the same guard, or a user guard that is a conjunction
    /// (`conjuncts` gives the two sides of an `and`) one of whose sides implies it (nested
    /// `if`s guard their body with the outer condition `and` the inner one).
    public static func guardImplies(_ user: Int?, _ operand: Int?, conjuncts: (Int) -> (Int, Int)?) -> Bool {
        guard let operand else { return true }
        guard let user else { return false }
        if user == operand { return true }
        guard let (a, b) = conjuncts(user) else { return false }
        return guardImplies(a, operand, conjuncts: conjuncts) || guardImplies(b, operand, conjuncts: conjuncts)
    }
}

extension Scheduled {
    /// The phase at which a value scheduled at `operand` exists for this instruction:
    /// values from outside the blocks or from another block are there before the pass,
    /// and so are values of step 0 used at later steps only.
    public func phase(of operand: some Scheduled) -> Phase {
        guard operand.block >= 0, operand.block == block else { return .before }
        if !steps.contains(0) && operand.steps == .prompt { return .before }
        return operand.phase
    }

    /// Whether a value scheduled at `operand` exists when this instruction runs: it comes
    /// from outside the blocks or an earlier block, or from this block no later in the
    /// pass (a value of step 0 used at later steps only is there before their passes), and
    /// it is first computed no later a step than the instruction first runs.
    public func causality(of operand: some Scheduled) -> Causality {
        if operand.block < 0 { return .holds }
        if block < 0 { return .userOutsideBlocks }
        if operand.block > block { return .laterBlock }
        if operand.block < block { return .holds }
        if operand.steps.first > steps.first { return .laterStep(operand.steps.first) }
        let p = phase(of: operand)
        return p <= phase ? .holds : .laterPhase(p)
    }
}

extension Anchor: Scheduled {}
