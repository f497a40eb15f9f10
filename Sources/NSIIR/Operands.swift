extension IndexItem {
    /// The values this index entry reads.
    public var operands: [ValueID] {
        switch self {
        case .at(let v), .gather(let v): return [v]
        case .slice(let a, let b, let c): return [a, b, c].compactMap { $0 }
        }
    }

    public func mapOperands(_ f: (ValueID) -> ValueID) -> IndexItem {
        switch self {
        case .at(let v): return .at(f(v))
        case .gather(let v): return .gather(f(v))
        case .slice(let a, let b, let c): return .slice(a.map(f), b.map(f), c.map(f))
        }
    }
}

extension Op {
    /// Every value the op reads, in the order they appear (index entries and lists included).
    public var operands: [ValueID] {
        switch self {
        case .constant, .tensorConstant, .param, .readPoint, .resultIds, .resultText, .attentionMask, .fill, .random, .weight, .skip:
            return []
        case .tokens(let a), .unary(_, let a), .reduce(_, let a, _, _), .softmax(let a, _, _), .topk(let a, _, _),
             .topkValues(let a), .topkIndices(let a), .reshape(let a, _), .transpose(let a, _, _), .unsqueeze(let a, _),
             .squeeze(let a, _), .clone(let a), .cast(let a, _), .fillLike(let a, _), .callModule(_, let a), .save(_, let a),
             .detach(let a), .backward(let a), .prompt(let a), .nonzero(let a):
            return [a]
        case .binary(_, let a, let b), .cosine(let a, let b, _), .gatherAlong(let a, _, let b):
            return [a, b]
        case .select(let a, let b, let c):
            return [a, b, c]
        case .index(let base, let items):
            return [base] + items.flatMap(\.operands)
        case .cat(let list, _), .stack(let list, _):
            return list
        case .write(_, let index, _, let value):
            return index.flatMap(\.operands) + [value]
        case .update(let base, let index, _, let value):
            return [base] + index.flatMap(\.operands) + [value]
        }
    }

    /// The same op with every value it reads replaced by `f(value)`.
    public func mapOperands(_ f: (ValueID) -> ValueID) -> Op {
        switch self {
        case .constant, .tensorConstant, .param, .readPoint, .resultIds, .resultText, .attentionMask, .fill, .random, .weight, .skip:
            return self
        case .tokens(let a): return .tokens(f(a))
        case .unary(let fn, let a): return .unary(fn, f(a))
        case .binary(let fn, let a, let b): return .binary(fn, f(a), f(b))
        case .index(let base, let items): return .index(f(base), items.map { $0.mapOperands(f) })
        case .reduce(let fn, let a, let dim, let keepdim): return .reduce(fn, f(a), dim: dim, keepdim: keepdim)
        case .softmax(let a, let dim, let log): return .softmax(f(a), dim: dim, log: log)
        case .topk(let a, let k, let dim): return .topk(f(a), k: k, dim: dim)
        case .topkValues(let a): return .topkValues(f(a))
        case .topkIndices(let a): return .topkIndices(f(a))
        case .reshape(let a, let dims): return .reshape(f(a), dims)
        case .transpose(let a, let x, let y): return .transpose(f(a), x, y)
        case .unsqueeze(let a, let d): return .unsqueeze(f(a), d)
        case .squeeze(let a, let d): return .squeeze(f(a), d)
        case .clone(let a): return .clone(f(a))
        case .cast(let a, let t): return .cast(f(a), t)
        case .cat(let list, let dim): return .cat(list.map(f), dim: dim)
        case .stack(let list, let dim): return .stack(list.map(f), dim: dim)
        case .select(let a, let b, let c): return .select(f(a), f(b), f(c))
        case .cosine(let a, let b, let dim): return .cosine(f(a), f(b), dim: dim)
        case .gatherAlong(let a, let dim, let index): return .gatherAlong(f(a), dim: dim, index: f(index))
        case .fillLike(let a, let value): return .fillLike(f(a), value: value)
        case .callModule(let name, let a): return .callModule(name, f(a))
        case .write(let point, let index, let fn, let value):
            return .write(point: point, index: index.map { $0.mapOperands(f) }, fn: fn, value: f(value))
        case .update(let base, let index, let fn, let value):
            return .update(f(base), index: index.map { $0.mapOperands(f) }, fn: fn, value: f(value))
        case .save(let key, let a): return .save(key: key, f(a))
        case .detach(let a): return .detach(f(a))
        case .backward(let a): return .backward(f(a))
        case .prompt(let a): return .prompt(f(a))
        case .nonzero(let a): return .nonzero(f(a))
        }
    }
}

extension Instruction {
    /// The op's operands and the guard: every value that must exist before this runs.
    public var uses: [ValueID] { op.operands + (anchor.guardValue.map { [$0] } ?? []) }
}
