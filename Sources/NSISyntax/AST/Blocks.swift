import NSISource

/// `trace prompt { }`, or `trace { invoke ... }` with no prompt.
public struct TraceBlock: Equatable, Sendable {
    public var prompt: Expr?
    public var body: Block
}

/// `generate prompt (max_tokens = 12, ...) { }`.
public struct GenerateBlock: Equatable, Sendable {
    public var prompt: Expr
    /// `name = value` options; every one has a label (a missing one is reported, E0115).
    public var options: [CallArgument]
    public var body: Block
}

/// `invoke prompt { }` inside a trace without a prompt.
public struct InvokeBlock: Equatable, Sendable {
    public var prompt: Expr
    public var body: Block
}

/// `step 3 { }` or `step 1..<5 { }` inside a generate.
public struct StepBlock: Equatable, Sendable {
    public var steps: Expr
    public var body: Block
}

/// `each step { }` inside a generate.
public struct EachStepBlock: Equatable, Sendable {
    public var body: Block
}
