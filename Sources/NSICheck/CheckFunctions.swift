import Foundation
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

extension CheckContext {
    func checkFunction(_ name: String, _ nameRange: SourceRange, _ args: [CallArgument], _ range: SourceRange) -> ValueRef? {
        let what = "`\(name)`"
        let whole = nameRange.union(range)
        guard let builtin = Builtin.function(name) else {
            report(.unknownFunction(name, suggestion: suggestion(for: name, among: Builtin.functionNames + Builtin.methodNames)), at: nameRange)
            return nil
        }
        switch builtin.name {
        case "zeros", "ones":
            guard let dims = shapeArguments(args, what, labels: []) else { return nil }
            return emit(.fill(shape: dims.shape, value: name == "ones" ? 1 : 0), type: .tensor(.f32, dims.shape), operands: [], range: whole, phase: .before)
        case "arange":
            guard let a = bind(builtin, args, range), let s0 = constInt(a, "start", what), let e0 = constInt(a, "end", what),
                  let st = constInt(a, "step", what) else { return nil }
            let (start, end) = e0 == nil ? (0, s0!) : (s0!, e0!)
            let step = st ?? 1
            guard step != 0 else { report(.argumentValue("`step` of `arange`", expected: "not zero", got: "0"), at: a.range("step")!); return nil }
            let count = max(0, (end - start + step - (step > 0 ? 1 : -1)) / step)
            guard count <= 1 << 20 else {
                report(.argumentValue("the length of `arange`", expected: "at most \(1 << 20)", got: String(count)), at: whole)
                return nil
            }
            let items = (0..<count).map { ConstValue.int(start + $0 * step) }
            return constant(.list(items), type: .tensor(.i64, [.known(count)]), range: whole)
        case "matmul", "outer":
            let names = builtin.parameters!
            guard let a = bind(builtin, args, range), let x = a[names[0]], let y = a[names[1]] else { return nil }
            guard name == "outer" else {
                return binary(.matmul, x, y, spelling: "matmul", operatorRange: nameRange, lhs: a.range(names[0])!, rhs: a.range(names[1])!, whole)
            }
            guard case .tensor(let dx, let sx) = x.type, sx.count == 1, case .tensor(let dy, let sy) = y.type, sy.count == 1 else {
                report(.argumentType("the inputs of `outer`", expected: "two 1-d tensors", got: x.type.shape?.count == 1 ? y.type : x.type), at: whole)
                return nil
            }
            let tx = tensorValue(x), ty = tensorValue(y)
            let column = emit(.unsqueeze(operandID(tx), 1), type: .tensor(dx, sx + [.known(1)]), operands: [tx], range: whole)
            return binary(.mul, column, ty, spelling: "outer", operatorRange: nameRange, lhs: a.range(names[0])!, rhs: a.range(names[1])!, whole)
        case "one_hot":
            guard let a = bind(builtin, args, range), let x = a["input"], let n = constInt(a, "num_classes", what), let n else { return nil }
            guard case .tensor(let d, let s) = x.type, d.isInteger else {
                report(.argumentType("the input of `one_hot`", expected: "an integer tensor", got: x.type), at: a.range("input")!)
                return nil
            }
            guard n >= 1, n <= 1 << 20 else { report(.argumentValue("`num_classes` of `one_hot`", expected: "in 1...\(1 << 20)", got: String(n)), at: a.range("num_classes")!); return nil }
            let t = tensorValue(x)
            let column = emit(.unsqueeze(operandID(t), s.count), type: .tensor(d, s + [.known(1)]), operands: [t], range: whole)
            let classes = tensorValue(materialize(constant(.list((0..<n).map { .int($0) }), type: .tensor(.i64, [.known(n)]), range: whole)))
            guard let eq = binary(.eq, column, classes, spelling: "one_hot", operatorRange: nameRange, lhs: whole, rhs: whole, whole) else { return nil }
            return emit(.cast(operandID(eq), .i64), type: .tensor(.i64, s + [.known(n)]), operands: [eq], range: whole)
        case "einsum":
            guard let a = bind(builtin, args, range), let eq = a["equation"], let x = a["a"] else { return nil }
            guard case .str(let equation)? = eq.constant else {
                report(.argumentType("the equation of `einsum`", expected: "a compile-time string", got: eq.type), at: a.range("equation")!)
                return nil
            }
            var operands = [(x, a.range("a")!)]
            if let y = a["b"] { operands.append((y, a.range("b")!)) }
            return einsum(equation, operands, a.range("equation")!, whole)
        case "gather":
            guard let a = bind(builtin, args, range), let x = a["input"], let d = constInt(a, "dim", what), let index = a["index"] else { return nil }
            guard case .tensor = x.type else { report(.notATensor(what, x.type), at: a.range("input")!); return nil }
            return gather(x, d!, a.range("dim")!, index, a.range("index")!, whole)
        case "diagonal":
            guard let a = bind(builtin, args, range), let x = a["input"] else { return nil }
            guard case .tensor(let d, let s) = x.type, s.count >= 2, let rows = s[s.count - 2].value, let cols = s[s.count - 1].value else {
                report(.argumentType("the input of `diagonal`", expected: "a tensor whose last two dimensions are known when compiling", got: x.type),
                       at: a.range("input")!)
                return nil
            }
            // [..., n, m] laid out as [..., n·m]: the diagonal is every (m+1)-th element, min(n, m) of them.
            let lead = Array(s.dropLast(2)), k = min(rows, cols)
            let t = tensorValue(x)
            let flat = emit(.reshape(operandID(t), lead + [.known(rows * cols)]), type: .tensor(d, lead + [.known(rows * cols)]), operands: [t], range: whole)
            func int(_ v: Int) -> ValueRef { materialize(constant(.int(v), type: .int, range: whole)) }
            let (start, end, step) = (int(0), int(k == 0 ? 0 : (k - 1) * (cols + 1) + 1), int(cols + 1))
            let items: [IndexItem] = lead.map { _ in IndexItem.slice(nil, nil, nil) } + [.slice(start.id, end.id, step.id)]
            return emit(.index(operandID(flat), items), type: .tensor(d, lead + [.known(k)]), operands: [flat, start, end, step], range: whole)
        case "len":
            guard let a = bind(builtin, args, range), let v = a["input"] else { return nil }
            switch v.type {
            case .strings(let n): return constant(.int(n), type: .int, range: whole)
            case .list(let items): return constant(.int(items.count), type: .int, range: whole)
            case .tensor(_, let s) where !s.isEmpty:
                guard let n = s[0].value else {
                    report(.argumentType("the first dimension of `len`'s input", expected: "known when compiling", got: v.type), at: a.range("input")!)
                    return nil
                }
                return constant(.int(n), type: .int, range: whole)
            default:
                report(.argumentType("the input of `len`", expected: "a tensor with at least one dimension, or a list", got: v.type), at: a.range("input")!)
                return nil
            }
        case "randn", "rand":
            guard let dims = shapeArguments(args, what, labels: ["seed"]) else { return nil }
            let d: RandomDistribution = name == "randn" ? .normal : .uniform
            guard let seed = randomSeed(dims.labelled["seed"], what) else { return nil }
            return emit(.random(shape: dims.shape, d, seed: seed), type: .tensor(.f32, dims.shape), operands: [], range: whole, phase: .before)
        case "randint":
            guard let a = bind(builtin, args, range), let low = constInt(a, "low", what), let high = constInt(a, "high", what),
                  let low, let high, let size = a["size"] else { return nil }
            guard high > low else {
                report(.argumentValue("`high` of \(what)", expected: "above `low` (\(low)), as the range is `low ..< high`", got: String(high)), at: a.range("high")!)
                return nil
            }
            guard let shape = shapeValue(size, what, a.range("size")!) else { return nil }
            guard let seed = randomSeed(a["seed"].map { ($0, a.range("seed")!) }, what) else { return nil }
            return emit(.random(shape: shape, .integers(low: low, high: high), seed: seed), type: .tensor(.i64, shape), operands: [],
                        range: whole, phase: .before)
        case "zeros_like", "ones_like":
            guard let a = bind(builtin, args, range), let v = a["input"] else { return nil }
            guard case .tensor(_, let s) = v.type else { report(.notATensor(what, v.type), at: a.range("input")!); return nil }
            let t = tensorValue(v)
            return emit(.fillLike(operandID(t), value: name == "ones_like" ? 1 : 0), type: .tensor(.f32, s), operands: [t], range: whole)
        case "cat", "stack":
            let items: [ValueRef], dOpt: Int?, dimRange: SourceRange?
            var grid: [Int]?
            if let g = gatherIndexed(args.first) {
                // `stack(c)` of an indexed name `c[i]` (or `c[i, j]`): its elements in index order.
                guard let a = bind(what, Array(args.dropFirst()), ["dim"], required: 0, range), let d = constInt(a, "dim", what) else { return nil }
                (items, grid, dOpt, dimRange) = (g.items, g.grid, d, a.range("dim"))
            } else {
                guard let a = bind(builtin, args, range), let list = a["tensors"],
                      let d = constInt(a, "dim", what) else { return nil }
                guard let listItems = list.items else {
                    report(.argumentType("the first argument of \(what)", expected: "a list of tensors", got: list.type), at: a.range("tensors")!)
                    return nil
                }
                (items, dOpt, dimRange) = (listItems, d, a.range("dim"))
            }
            var shapes: [[ShapeDim]] = []
            var dtype: DType = .f32
            for (k, it) in items.enumerated() {
                guard case .tensor(let d, let s) = it.type else { report(.notATensor(what, it.type), at: it.range); return nil }
                if k == 0 { dtype = d } else if d != dtype {
                    report(.catShape("\(what) of tensors with different dtypes \(dtype.rawValue) and \(d.rawValue)"), at: it.range)
                    return nil
                }
                shapes.append(s)
            }
            guard let first = shapes.first else { report(.argumentCount(what, "needs at least one tensor"), at: whole); return nil }
            let rank = first.count
            let extra = name == "stack" ? 1 : 0
            guard let d = resolveDim(dOpt ?? 0, rank: rank, dimRange ?? whole, extra: extra) else { return nil }
            var out = first
            for (k, s) in shapes.enumerated().dropFirst() {
                guard s.count == rank else {
                    report(.catShape("\(what): tensor \(k) has rank \(s.count), the first has \(rank)"), at: items[k].range)
                    return nil
                }
                for i in 0..<rank where (name == "stack" || i != d) && s[i] != first[i] {
                    report(.catShape("\(what): tensor \(k) has shape \(s.described), which does not fit \(first.described) along dimension \(i)"), at: items[k].range)
                    return nil
                }
            }
            let ids = items.map { tensorValue($0) }
            if name == "stack" {
                out.insert(.known(items.count), at: d)
                let stacked = emit(.stack(ids.map { operandID($0) }, dim: d), type: .tensor(dtype, out), operands: ids, range: whole)
                // A full grid of indices stacks to one axis per index: `c[l, p]` gives [L, P, ...].
                guard let grid, d == 0 else { return stacked }
                let shape = grid.map { ShapeDim.known($0) } + first
                return emit(.reshape(operandID(stacked), shape), type: .tensor(dtype, shape), operands: [stacked], range: whole)
            }
            let total = shapes.map { $0[d] }
            if let known = total.allKnown { out[d] = .known(known.reduce(0, +)) } else { out[d] = .symbol("N") }
            return emit(.cat(ids.map { operandID($0) }, dim: d), type: .tensor(dtype, out), operands: ids, range: whole)
        case "where":
            guard let a = bind(builtin, args, range),
                  let c = a["condition"], let x = a["input"], let y = a["other"] else { return nil }
            guard c.type.elementType == .bool else { report(.conditionType(c.type), at: a.range("condition")!); return nil }
            guard x.type.isNumeric, y.type.isNumeric else { report(.operandType("where", x.type, y.type), at: whole); return nil }
            let (s1, _) = broadcastShapes(c.type.shape!, x.type.shape!)
            guard let s1, let s = broadcastShapes(s1, y.type.shape!).shape else {
                report(.broadcast(x.type, y.type, axis: "the condition and both values must broadcast together"), at: whole)
                return nil
            }
            let refs = [tensorValue(c), tensorValue(x), tensorValue(y)]
            return emit(.select(operandID(refs[0]), operandID(refs[1]), operandID(refs[2])), type: .tensor(.f32, s), operands: refs, range: whole)
        case "cosine":
            guard let a = bind(builtin, args, range),
                  let x = a["a"], let y = a["b"], let dOpt = constInt(a, "dim", what) else { return nil }
            guard case .tensor(_, let sx) = x.type, case .tensor(_, let sy) = y.type else {
                report(.notATensor(what, x.type.shape == nil ? x.type : y.type), at: whole)
                return nil
            }
            guard let s = broadcastShapes(sx, sy).shape else {
                report(.broadcast(x.type, y.type, axis: "cosine compares tensors that broadcast together"), at: whole)
                return nil
            }
            guard let d = resolveDim(dOpt ?? -1, rank: s.count, a.range("dim") ?? whole) else { return nil }
            var out = s
            out.remove(at: d)
            let refs = [tensorValue(x), tensorValue(y)]
            return emit(.cosine(operandID(refs[0]), operandID(refs[1]), dim: d), type: .tensor(.f32, out), operands: refs, range: whole)
        case "tok", "toks":
            guard let a = bind(builtin, args, range), let v = a["text"] else { return nil }
            guard v.type == .str else { report(.argumentType("the argument of \(what)", expected: "a string", got: v.type), at: a.range("text")!); return nil }
            guard let tokenizer = signature.tokenizer else {
                report(.argumentType("\(what)", expected: "a model with a tokenizer.json", got: .str), at: whole)
                return nil
            }
            guard case .str(let text) = v.constant else {
                if name == "toks" {
                    let m = materialize(v)
                    return emit(.tokens(operandID(m)), type: .tensor(.i64, [.symbol("N")]), operands: [m], range: whole)
                }
                report(.argumentType("the argument of `tok`", expected: "a compile-time string", got: v.type), at: a.range("text")!)
                return nil
            }
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            if name == "tok" {
                guard ids.count == 1 else { report(.notOneToken(text, ids), at: whole); return nil }
                return constant(.int(ids[0]), type: .int, range: whole)
            }
            return constant(.list(ids.map { .int($0) }), type: .tensor(.i64, [.known(ids.count)]), range: whole)
        case "load":
            guard let a = bind(builtin, args, range), let f = a["file"], let k = a["key"] else { return nil }
            guard case .str(let file) = f.constant, case .str(let key) = k.constant else {
                report(.argumentType("the arguments of `load`", expected: "compile-time strings", got: f.constant == nil ? f.type : k.type), at: whole)
                return nil
            }
            let path: String
            switch files.resolve(file) {
            case .success(let p): path = p
            case .failure(let refusal):
                report(.fileNotAllowed(refusal.reason), at: a.range("file")!)
                return nil
            }
            do {
                let st = try SafetensorsFile(path: path)
                guard let entry = st.entry(key) else {
                    report(.loadFailed("\(file) has no tensor \"\(key)\""), at: a.range("key")!,
                           notes: st.names.isEmpty ? [] : ["it has: " + st.names.prefix(10).joined(separator: ", ")])
                    return nil
                }
                guard entry.dtype.isFloatingPoint || entry.dtype == .i32 || entry.dtype == .i64 else {
                    report(.loadFailed("tensor \"\(key)\" in \(file) is \(entry.dtype.rawValue); load reads floating-point and i32/i64 tensors"), at: a.range("key")!)
                    return nil
                }
                let t = try st.tensor(key)
                if !entry.dtype.isFloatingPoint {
                    // Token ids and indices: i64, kept exactly (the plan stores constants as f32).
                    let ints = t.cast(to: .i64).contiguous().toInt64s()
                    guard ints.allSatisfy({ abs($0) <= 1 << 24 }) else {
                        report(.loadFailed("tensor \"\(key)\" in \(file) has integers beyond ±2^24, which a plan cannot hold exactly"), at: a.range("key")!)
                        return nil
                    }
                    return emit(.tensorConstant(shape: entry.shape, data: ints.map(Float.init)), type: .tensor(.i64, entry.shape.map { .known($0) }),
                                operands: [], range: whole, phase: .before)
                }
                return emit(.tensorConstant(shape: entry.shape, data: t.toFloats()), type: .tensor(.f32, entry.shape.map { .known($0) }),
                            operands: [], range: whole, phase: .before)
            } catch {
                report(.loadFailed("\(error)"), at: a.range("file")!)
                return nil
            }
        default:
            // A row of Builtin.table this switch does not handle (BuiltinTableTests fails).
            report(.unknownFunction(name, suggestion: nil), at: nameRange)
            return nil
        }
    }

    /// Dimensions given one per argument or as one list (`zeros(2, 576)`, `randn([2, 576], seed=1)`),
    /// and the values of the labelled arguments `labels` allows.
    func shapeArguments(_ args: [CallArgument], _ what: String, labels: Set<String>) -> (shape: [ShapeDim], labelled: [String: (ValueRef, SourceRange)])? {
        var dims: [ShapeDim] = []
        var labelled: [String: (ValueRef, SourceRange)] = [:]
        for arg in args {
            if let l = arg.label, !labels.contains(l.name) {
                report(.argumentCount(what, "unknown argument `\(l.name)`" + (labels.isEmpty ? "" : " (takes dimensions and \(labels.sorted().map { "`\($0)`" }.joined(separator: ", ")))")), at: l.range)
                return nil
            }
            guard let v = checkExpr(arg.value) else { return nil }
            if let l = arg.label { labelled[l.name] = (v, arg.value.range); continue }
            guard let more = shapeValue(v, what, arg.value.range) else { return nil }
            dims += more
        }
        return (dims, labelled)
    }

    /// A compile-time dimension or list of dimensions.
    func shapeValue(_ v: ValueRef, _ what: String, _ range: SourceRange) -> [ShapeDim]? {
        if case .list(let items) = v.constant {
            let ints = items.compactMap(\.intValue)
            if ints.count == items.count, ints.allSatisfy({ $0 >= 0 }) { return ints.map { .known($0) } }
        } else if let i = v.constant?.intValue, i >= 0 {
            return [.known(i)]
        }
        report(.argumentType("a dimension of \(what)", expected: "a non-negative compile-time integer", got: v.type), at: range)
        return nil
    }

    /// The seed of a random draw: the one given, or else the next stream of the script's
    /// default generator (`SplitMix.word(seed: s, k)` for the k-th draw without a seed, s the script's `seed` or 0).
    func randomSeed(_ given: (ValueRef, SourceRange)?, _ what: String) -> Int? {
        guard let (v, range) = given else {
            defer { unseededDraws += 1 }
            return Int(Int64(bitPattern: SplitMix.word(seed: UInt64(bitPattern: Int64(scriptSeed?.0 ?? 0)), UInt64(unseededDraws))))
        }
        guard let s = v.constant?.intValue else {
            report(.argumentType("`seed` of \(what)", expected: "a compile-time integer", got: v.type), at: range)
            return nil
        }
        return s
    }

    /// The elements of an indexed name given as the list of `stack`/`cat`, in index order
    /// (lexicographic for several indices), and the grid's sizes when its indices are
    /// exactly `0..<n` along each of two or more axes.
    func gatherIndexed(_ arg: CallArgument?) -> (items: [ValueRef], grid: [Int]?)? {
        guard let arg, arg.label == nil || arg.label?.name == "tensors", case .name(let n) = arg.value.kind,
              case .indexed(let elements, _)? = lookup(n)?.0 else { return nil }
        let keys = elements.keys.sorted { $0.lexicographicallyPrecedes($1) }
        let items = keys.map { k -> ValueRef in var v = elements[k]!; v.range = arg.value.range; return v }
        let axes = keys.first?.count ?? 0
        let sizes = (0..<axes).map { ax in (keys.map { $0[ax] }.max() ?? -1) + 1 }
        let full = axes > 1 && keys.allSatisfy { $0.allSatisfy { $0 >= 0 } } && keys.count == sizes.reduce(1, *)
        return (items, full ? sizes : nil)
    }

    /// `torch.gather(x, dim, index)`: an integer index of x's rank, no larger than x
    /// outside `dim`; the result has the index's shape. Constant indices are checked
    /// against `dim`'s size here, others when the plan runs.
    func gather(_ x: ValueRef, _ dim: Int, _ dimRange: SourceRange, _ index: ValueRef, _ indexRange: SourceRange, _ whole: SourceRange) -> ValueRef? {
        guard case .tensor(let dx, let sx) = x.type, dx == .f32 else {
            report(.argumentType("the input of `gather`", expected: "an f32 tensor", got: x.type), at: whole)
            return nil
        }
        guard case .tensor(let di, let si) = index.type, di == .i64 || di == .i32, si.count == sx.count else {
            report(.argumentType("the index of `gather`", expected: "an integer tensor of rank \(sx.count)", got: index.type), at: indexRange)
            return nil
        }
        guard let d = resolveDim(dim, rank: sx.count, dimRange) else { return nil }
        for k in 0..<sx.count where k != d {
            if let a = si[k].value, let b = sx[k].value, a > b {
                report(.argumentType("the index of `gather`", expected: "no larger than the input \(x.type) outside dimension \(d)", got: index.type), at: indexRange)
                return nil
            }
        }
        if let values = index.constant.flatMap(literalShape)?.1, let n = sx[d].value, let bad = values.first(where: { Int($0) < -n || Int($0) >= n }) {
            report(.indexOutOfRange(Int(bad), dim: d, size: n), at: indexRange)
            return nil
        }
        let t = tensorValue(x), i = tensorValue(index)
        return emit(.gatherAlong(operandID(t), dim: d, index: operandID(i)), type: .tensor(.f32, si), operands: [t, i], range: whole)
    }
}
