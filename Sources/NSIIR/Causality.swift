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

    /// Whether a value scheduled at `operand` exists when this instruction runs.
    public func causality(of operand: some Scheduled) -> Causality {
        if operand.block < 0 { return .holds }
        if block < 0 { return .userOutsideBlocks }
        if operand.block > block { return .laterBlock }
        let p = phase(of: operand)
        return p <= phase ? .holds : .laterPhase(p)
    }
}

extension Anchor: Scheduled {}
