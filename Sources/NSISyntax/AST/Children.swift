/// Direct children of nodes, in source order, for passes that walk the tree without
/// caring about every kind (collecting names, checking ranges).
extension Expr {
    /// The direct sub-expressions.
    public var children: [Expr] {
        switch kind {
        case .integer, .float, .string, .boolean, .name, .model, .result, .ellipsis, .missing: []
        case .list(let items): items
        case .paren(let inner): [inner]
        case .unary(let unary): [unary.operand]
        case .binary(let binary): [binary.lhs, binary.rhs]
        case .range(let range): [range.lower, range.upper]
        case .attribute(let attribute): [attribute.base]
        case .call(let call): [call.callee] + call.arguments.map(\.value)
        case .subscript(let sub): [sub.base] + sub.indices.flatMap(\.expressions)
        }
    }
}

extension SubscriptIndex {
    public var expressions: [Expr] {
        switch self {
        case .expr(let expr): [expr]
        case .slice(let slice): [slice.lower, slice.upper, slice.step].compactMap { $0 }
        case .ellipsis: []
        }
    }
}

extension Stmt {
    /// The expressions of this statement itself, not those inside its blocks.
    public var expressions: [Expr] {
        switch kind {
        case .param(let param): (param.type.dimensions ?? []) + [param.defaultValue].compactMap { $0 }
        case .trace(let trace): [trace.prompt].compactMap { $0 }
        case .generate(let generate): [generate.prompt] + generate.options.map(\.value)
        case .invoke(let invoke): [invoke.prompt]
        case .step(let step): [step.steps]
        case .eachStep, .placeholder: []
        case .binding(let binding): binding.indices + [binding.value]
        case .assign(let assign): [assign.target, assign.value]
        case .skip(let skip): [skip.module]
        case .backward(let value), .seed(let value): [value]
        case .forLoop(let loop): [loop.sequence]
        case .ifElse(let statement): statement.conditions
        case .expression(let expr): [expr]
        }
    }

    /// The blocks of this statement, in order (an if chain's bodies, then its else).
    public var blocks: [Block] {
        switch kind {
        case .trace(let trace): [trace.body]
        case .generate(let generate): [generate.body]
        case .invoke(let invoke): [invoke.body]
        case .step(let step): [step.body]
        case .eachStep(let each): [each.body]
        case .forLoop(let loop): [loop.body]
        case .ifElse(let statement): statement.bodies
        case .param, .binding, .assign, .skip, .backward, .seed, .placeholder, .expression: []
        }
    }
}

extension IfStmt {
    /// The conditions of the chain: this one and those of its `else if`s.
    public var conditions: [Expr] {
        if case .elseIf(let next, _) = elseClause { return [condition] + next.conditions }
        return [condition]
    }

    /// The bodies of the chain, the final `else` last.
    public var bodies: [Block] {
        switch elseClause {
        case nil: [then]
        case .block(let block): [then, block]
        case .elseIf(let next, _): [then] + next.bodies
        }
    }
}
