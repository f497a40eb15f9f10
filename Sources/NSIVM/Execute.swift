import Foundation
import NSIIR
import NSIRuntime
import NSITensor

extension Execution {
    /// Runs one instruction that computes a value or saves one.
    /// Runs an instruction, timing it as this run's own work (see `checkDeadline`).
    func run(_ ins: Instruction) throws {
        guard let clock = batchClock else { return try execute(ins) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9
            ownSeconds += seconds
            clock.instructionSeconds += seconds
        }
        try execute(ins)
    }

    func execute(_ ins: Instruction) throws {
        guard try guardAllows(ins) else { return }
        try count(ins)
        var out: RunValue
        var moduleNode: Int?
        switch ins.op {
        case .constant(let c):
            out = RunValue.from(c)
        case .tensorConstant(let shape, let data):
            // Literals are stored as f32; an integer literal gets the i64 type the checker gave it.
            out = .tensor(conform(Tensor(shape: shape, floats: data), ins))
        case .param(let name):
            out = try paramValue(name, ins)
        case .readPoint, .write:
            throw VMError(.internal, "internal: a point instruction outside its hook", span: ins.range)
        case .tokens(let s):
            guard case .str(let text) = try value(s, ins) else { throw VMError(.input, "toks needs a string", span: ins.range) }
            let ids = try vm.model.requireTokenizer().encode(text, addSpecialTokens: false)
            out = .tensor(Tensor(shape: [ids.count], int64s: ids.map(Int64.init)))
        case .resultIds:
            guard let g = generation ?? lastGenerated else { throw VMError(.input, "no generation has run", span: ins.range) }
            let width = max(generatedWidth, g.ids.map(\.count).max() ?? 0)
            let pad = Int64(transformer.config.eosTokenIds.first ?? 0)
            let flat = g.ids.flatMap { row in row.map(Int64.init) + Array(repeating: pad, count: width - row.count) }
            out = .tensor(Tensor(shape: [g.ids.count, width], int64s: flat))
        case .resultText:
            guard let g = generation ?? lastGenerated else { throw VMError(.input, "no generation has run", span: ins.range) }
            out = .strings(try g.generated.map { try vm.model.decode($0) })
        case .attentionMask:
            let k = ins.anchor.invoke ?? 0
            guard k < promptLengths.count else { throw VMError(.internal, "internal: a mask outside its block", span: ins.range) }
            let width = promptWidth
            out = .tensor(Tensor(shape: [promptLengths[k].count, width],
                                 int64s: promptLengths[k].flatMap { n in (0..<width).map { Int64($0 >= width - n ? 1 : 0) } }))
        case .unary(let fn, let a):
            out = try unary(fn, try value(a, ins), ins)
        case .binary(let fn, let a, let b):
            out = try binary(fn, try value(a, ins), try value(b, ins), ins)
        case .index(let base, let items):
            if case .strings(let list) = try value(base, ins) {
                guard items.count == 1, case .at(let v) = items[0], let i = try value(v, ins).intValue, i >= -list.count, i < list.count else {
                    throw VMError(.input, "an index is out of range for a list of \(list.count) strings", span: ins.range)
                }
                out = .str(list[i < 0 ? i + list.count : i])
                break
            }
            let t = try applyIndex(try tensor(base, ins), items, ins, forWrite: false).contiguous()
            try expectShape(t, ins)
            out = .tensor(t)
        case .reduce(let fn, let a, let dim, let keepdim):
            let t = try tensor(a, ins)
            let op: ReduceOp
            switch fn {
            case .sum: op = .sum
            case .mean: op = .mean
            case .max: op = .max
            case .min: op = .min
            case .argmax: op = .argmax
            case .argmin: op = .argmin
            case .norm: op = .norm
            }
            if let dim, t.shape[dim] == 0, op != .sum && op != .norm && op != .mean {
                throw VMError(.input, "\(fn.rawValue) over an empty dimension", span: ins.range)
            }
            if dim == nil, t.count == 0, op != .sum && op != .norm && op != .mean {
                throw VMError(.input, "\(fn.rawValue) of an empty tensor", span: ins.range)
            }
            out = .tensor(t.reduce(op, dim: dim, keepdim: keepdim))
        case .softmax(let a, let dim, let log):
            let t = try tensor(a, ins)
            out = .tensor(log ? t.logSoftmax(dim: dim) : t.softmax(dim: dim))
        case .topk(let a, let k, let dim):
            let t = try tensor(a, ins)
            guard k <= t.shape[dim] else { throw VMError(.input, "topk: k = \(k) but the dimension has \(t.shape[dim]) entries", span: ins.range) }
            let (v, i) = t.cast(to: .f32).topk(k, dim: dim)
            out = .topk(values: v, indices: i)
        case .topkValues(let a):
            guard case .topk(let v, _) = try value(a, ins) else { throw VMError(.internal, "internal: not a topk pair", span: ins.range) }
            out = .tensor(v)
        case .topkIndices(let a):
            guard case .topk(_, let i) = try value(a, ins) else { throw VMError(.internal, "internal: not a topk pair", span: ins.range) }
            out = .tensor(i)
        case .reshape(let a, let dims):
            let t = try tensor(a, ins)
            let shape = dims.map { $0.value ?? -1 }
            guard Tensor.inferShape(shape, count: t.count) != nil else {
                throw VMError(.input, "cannot reshape \(describeShape(t.shape)) to \(describeShape(shape))", span: ins.range)
            }
            out = .tensor(t.reshape(shape).contiguous())
        case .transpose(let a, let x, let y):
            out = .tensor(try tensor(a, ins).transpose(x, y).contiguous())
        case .unsqueeze(let a, let d):
            out = .tensor(try tensor(a, ins).unsqueeze(d))
        case .squeeze(let a, let d):
            out = .tensor(try tensor(a, ins).squeeze(d))
        case .clone(let a):
            out = .tensor(try tensor(a, ins).copy())
        case .cast(let a, let dtype):
            out = .tensor(try tensor(a, ins).cast(to: dtype))
        case .cat(let parts, let dim), .stack(let parts, let dim):
            let ts = try parts.map { try tensor($0, ins) }
            for t in ts.dropFirst() where t.rank != ts[0].rank || t.dtype != ts[0].dtype {
                throw VMError(.input, "cat/stack: tensors differ in rank or dtype", span: ins.range)
            }
            try reserve([ts.reduce(0) { $0 + $1.count }], elementBytes: ts.first?.dtype.size ?? 4, ins)
            if case .stack = ins.op {
                guard ts.allSatisfy({ $0.shape == ts[0].shape }) else { throw VMError(.input, "stack: shapes differ", span: ins.range) }
                out = .tensor(Tensor.stack(ts, dim: dim))
            } else {
                for t in ts.dropFirst() {
                    for k in 0..<t.rank where k != dim && t.shape[k] != ts[0].shape[k] {
                        throw VMError(.input, "cat: shapes \(describeShape(ts[0].shape)) and \(describeShape(t.shape)) differ outside dimension \(dim)", span: ins.range)
                    }
                }
                out = .tensor(Tensor.cat(ts, dim: dim))
            }
        case .select(let c, let a, let b):
            let (ct, at, bt) = (try tensor(c, ins), try tensor(a, ins), try tensor(b, ins))
            guard let s1 = Tensor.broadcastShape(ct.shape, at.shape), let s2 = Tensor.broadcastShape(s1, bt.shape) else {
                throw VMError(.input, "where: shapes do not broadcast", span: ins.range)
            }
            try reserve(s2, ins)
            out = .tensor(Tensor.select(ct, at, bt))
        case .cosine(let a, let b, let dim):
            let (x, y) = (try tensor(a, ins).cast(to: .f32), try tensor(b, ins).cast(to: .f32))
            guard let shape = Tensor.broadcastShape(x.shape, y.shape) else { throw VMError(.input, "cosine: shapes do not broadcast", span: ins.range) }
            try reserve(shape, ins)
            let dot = (x * y).sum(dim: dim)
            let norms = x.reduce(.norm, dim: dim) * y.reduce(.norm, dim: dim)
            out = .tensor(dot / norms.binary(.maximum, Tensor(scalar: 1e-8)))
        case .fill(let shape, let v):
            let dims = shape.map { $0.value ?? 0 }
            try reserve(dims, ins)
            let t = Tensor(zeros: dims)
            if v != 0 { t.fill(Float(v)) }
            out = .tensor(t)
        case .random(let shape, let d, let seed):
            let dims = shape.map { $0.value ?? 0 }
            try reserve(dims, elementBytes: d.dtype == .i64 ? 8 : 4, ins)
            if case .integers(let lo, let hi) = d, hi <= lo { throw VMError(.input, "randint: high \(hi) is not above low \(lo)", span: ins.range) }
            out = .tensor(SplitMix.tensor(dims, d, seed: UInt64(bitPattern: Int64(seed))))
        case .weight(let name):
            guard let w = transformer.weightTable[name] else { throw VMError(.input, "the model has no weight \(name)", span: ins.range) }
            try reserve(w.shape, ins)
            do { out = .tensor(try transformer.weights.weight(w)) } catch {
                throw VMError(.input, "reading weight \(name): \(error)", span: ins.range)
            }
        case .update(let a, let index, let fn, let valueID):
            // Copy on write: the new value is a fresh tensor; the old one stays as readers saw it.
            let base = try tensor(a, ins)
            try reserve(base.shape, elementBytes: base.dtype.size, ins)
            let copy = base.copy()
            let (target, v) = try writeTarget(copy, index, valueID, ins, what: "")
            if base.dtype == .f32 {
                Self.write(v, into: target, fn)
            } else {
                guard fn == .set else { throw VMError(.input, "only = edits a \(base.dtype.rawValue) tensor", span: ins.range) }
                target.assign(try tensor(valueID, ins))
            }
            out = .tensor(copy)
        case .nonzero(let a):
            let t = try tensor(a, ins)
            let flags = t.cast(to: .f32).contiguous().toFloats()
            let strides = Tensor.contiguousStrides(t.shape)
            var positions: [Int64] = []
            for (flat, x) in flags.enumerated() where x != 0 {
                var rest = flat
                for s in strides { positions.append(Int64(rest / s)); rest %= s }
            }
            try reserve([positions.count], elementBytes: 8, ins)
            out = .tensor(Tensor(shape: [positions.count / max(t.rank, 1), t.rank], int64s: positions))
        case .gatherAlong(let a, let dim, let index):
            let x = try tensor(a, ins), idx = try tensor(index, ins)
            try reserve(idx.shape, ins)
            guard let g = x.gather(dim: dim, index: idx) else {
                let d = dim < 0 ? dim + x.rank : dim
                throw VMError(.input, "gather: an index of \(describeShape(idx.shape)) is out of range for dimension \(d) of size \(x.shape[d]), "
                              + "or the index is larger than the input \(describeShape(x.shape)) outside it", span: ins.range)
            }
            out = .tensor(g)
        case .fillLike(let a, let v):
            let shape = try tensor(a, ins).shape
            try reserve(shape, ins)
            let t = Tensor(zeros: shape)
            if v != 0 { t.fill(Float(v)) }
            out = .tensor(t)
        case .callModule(let name, let a):
            do {
                let x = try tensor(a, ins)
                if let tape, let n = node(a, for: ins) {
                    // Recorded: the gradient flows through the module's own work.
                    let (t, m) = try transformer.callModule(name, x, node: n, tape: tape)
                    out = .tensor(t)
                    moduleNode = m
                } else {
                    out = .tensor(try transformer.callModule(name, x))
                }
            } catch {
                throw VMError(wrapping: error, span: ins.range)
            }
        case .save(let key, let a):
            let v = try value(a, ins)
            savedBytes += v.bytes
            guard savedBytes <= vm.limits.maxSavedBytes else {
                throw VMError(.limit(.savedBytes), "saved results exceed the limit of \(vm.limits.maxSavedBytes) bytes", span: ins.range)
            }
            results.values.append((key, v))
            return
        case .skip, .prompt:
            return   // applied when the pass is set up
        case .detach(let a):
            out = .tensor(try tensor(a, ins))
        case .backward(let a):
            let m = try tensor(a, ins)
            guard m.count == 1 else { throw VMError(.input, "backward needs a scalar, not \(describeShape(m.shape))", span: ins.range) }
            // Without a tape nothing reads or writes a gradient: the reverse pass would change nothing.
            if let tape, let n = node(a, for: ins) { tape.seed(n, Tensor(zeros: m.shape) + 1) }
            return
        }
        // A value taken from a view of the pass's tensor that is needed after the hook:
        // copy just this value.
        if memory.storage[ins.id.index] == .copy, case .tensor(let t) = out, let base = ins.op.aliasedOperand,
           case .tensor(let b)? = registers[base.index], t.storage === b.storage {
            out = .tensor(t.copy())
        }
        try set(ins.id, out, ins)
        if let moduleNode { nodes[ins.id.index] = moduleNode } else { try recordGradient(ins, out) }
    }

    /// A result whose shape the checker knew in part (a slice `1:4` of a run-time prompt's
    /// length) must have it: a prompt too short for the slice stops the run here.
    func expectShape(_ t: Tensor, _ ins: Instruction) throws {
        guard case .tensor(_, let dims)? = ins.type, dims.count == t.rank else { return }
        for (d, (want, got)) in zip(dims, t.shape).enumerated() {
            if let w = want.value, w != got {
                throw VMError(.input, "this index gives \(describeShape(t.shape)) where the script needs \(w) along dimension \(d): the prompt is too short for it", span: ins.range)
            }
        }
    }

    func paramValue(_ name: String, _ ins: Instruction) throws -> RunValue {
        guard let info = program.params.first(where: { $0.name == name }) else { throw VMError(.param, "unknown param \(name)", span: ins.range) }
        if let bound = boundParams[name] { return try bound.bound(to: info) }
        if let c = info.value { return RunValue.from(c).coerced(to: info.type) }
        if let t = info.tensorDefault {
            let f = Tensor(shape: t.shape, floats: t.data)
            return .tensor(info.type.elementType == .f32 ? f : f.cast(to: .i64))
        }
        throw VMError(.param, "param `\(name)` has no value: give it when running", span: info.range)
    }

    /// Positions, slices and integer-tensor indices, applied dimension by dimension (see
    /// `ResolvedIndex`, which the reverse pass applies again).
    func applyIndex(_ base: Tensor, _ items: [IndexItem], _ ins: Instruction, forWrite: Bool) throws -> Tensor {
        let resolved = try resolve(items, ins, forWrite: forWrite)
        do {
            return try ResolvedIndex.apply(resolved, to: base, maxBytes: max(0, vm.limits.maxRegisterBytes - registerBytes))
        } catch {
            throw VMError(error.bytes == nil ? .input : .limit(.registerBytes), error.message, span: ins.range)
        }
    }
}

extension RunValue {
    /// A compile-time constant in the param's declared type (an int default of a float param).
    func coerced(to type: ValueType) -> RunValue {
        if case .int(let i) = self, type == .float { return .float(Double(i)) }
        return self
    }
}
