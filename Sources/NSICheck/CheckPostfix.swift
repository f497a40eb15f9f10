import Foundation
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

/// One link of a postfix chain such as `model.layers[8].output[:, -1].softmax(-1)`.
enum ChainPart {
    case attribute(Identifier)
    case index([SubscriptIndex], SourceRange)
    case call([CallArgument], SourceRange)
}

/// A path into the model: dotted for lookup (`layers.8.attn.q`), as written for messages.
struct ModelPath {
    var components: [String] = []
    var display = ""
    var name: String { components.joined(separator: ".") }
}

extension CheckContext {
    /// Splits a postfix expression into its root and the links after it.
    func chain(_ e: Expr) -> (root: Expr, parts: [ChainPart]) {
        var parts: [ChainPart] = []
        var cur = e
        while true {
            switch cur.kind {
            case .attribute(let a): parts.append(.attribute(a.name)); cur = a.base
            case .subscript(let s): parts.append(.index(s.indices, SourceRange(start: s.base.range.end, end: cur.range.end))); cur = s.base
            case .call(let c): parts.append(.call(c.arguments, cur.range)); cur = c.callee
            case .paren(let inner) where !parts.isEmpty: cur = inner
            default: return (cur, parts.reversed())
            }
        }
    }

    func checkPostfix(_ e: Expr) -> ValueRef? {
        let (root, parts) = chain(e)
        var i = 0
        var value: ValueRef
        switch root.kind {
        case .model:
            guard let (v, consumed) = checkModelChain(root, parts, whole: e) else { return nil }
            value = v
            i = consumed
        case .result:
            guard case .attribute(let name) = parts.first else {
                report(.resultBeforeGenerate(), at: root.range)
                return nil
            }
            guard let v = checkResult(name, root.range.union(name.range)) else { return nil }
            value = v
            i = 1
        case .name(let n) where parts.first.map({ if case .call = $0 { return true }; return false }) == true:
            guard case .call(let args, let r) = parts[0] else { return nil }
            guard let v = checkFunction(n, root.range, args, r) else { return nil }
            value = v
            i = 1
        case .name(let n):
            if case .index(let idx, let r) = parts.first, case .indexed(let elements, _)? = lookup(n)?.0 {
                guard let v = indexedElement(n, elements, idx, root.range.union(r)) else { return nil }
                value = v
                i = 1
            } else {
                guard let v = checkExpr(root) else { return nil }
                value = v
            }
        default:
            guard let v = checkExpr(root) else { return nil }
            value = v
        }
        return applyParts(value, parts[i...], start: root.range)
    }

    /// Applies indexing, attributes and method calls to a value.
    func applyParts(_ start: ValueRef, _ parts: ArraySlice<ChainPart>, start range: SourceRange) -> ValueRef? {
        var value = start
        var i = parts.startIndex
        var covered = range
        while i < parts.endIndex {
            switch parts[i] {
            case .index(let items, let r):
                covered = covered.union(r)
                guard let v = checkIndexing(value, items, covered) else { return nil }
                value = v
                i += 1
            case .attribute(let name):
                covered = covered.union(name.range)
                // `x.shape[d]`: dimension d as a compile-time int, when it is known, whatever the others are.
                if name.name == "shape", case .tensor(_, let s) = value.type, i + 1 < parts.endIndex,
                   case .index(let items, let r) = parts[i + 1], items.count == 1, case .expr(let e) = items[0],
                   let d = checkExpr(e)?.constant?.intValue, d >= -s.count, d < s.count, let n = s[d < 0 ? d + s.count : d].value {
                    covered = covered.union(r)
                    value = constant(.int(n), type: .int, range: covered)
                    i += 2
                    continue
                }
                if i + 1 < parts.endIndex, case .call(let args, let r) = parts[i + 1] {
                    covered = covered.union(r)
                    guard let v = checkMethod(value, name, args, covered) else { return nil }
                    value = v
                    i += 2
                } else {
                    guard let v = checkAttribute(value, name, covered) else { return nil }
                    value = v
                    i += 1
                }
            case .call(_, let r):
                report(.notCallable(text(covered), why: "it is a value, not a module or function"), at: r)
                return nil
            }
        }
        return value
    }

    func checkAttribute(_ v: ValueRef, _ name: Identifier, _ range: SourceRange) -> ValueRef? {
        if case .topk(let shape) = v.type {
            switch name.name {
            case "values": return emit(.topkValues(operandID(v)), type: .tensor(.f32, shape), operands: [v], range: range)
            case "indices": return emit(.topkIndices(operandID(v)), type: .tensor(.i64, shape), operands: [v], range: range)
            default: break
            }
        }
        if name.name == "shape", case .tensor(_, let s) = v.type {
            // Compile-time ints, usable in slices, loops and shapes; a length known only when
            // the plan runs (a run-time prompt's T) is an error that names it.
            guard let dims = s.allKnown else {
                let which = s.enumerated().filter { $0.element.value == nil }.map { "dimension \($0.offset) (\($0.element))" }
                report(.argumentType("`.shape`", expected: "known when compiling", got: v.type), at: range)
                if let last = diagnostics.indices.last {
                    diagnostics[last].notes.append(which.joined(separator: ", ") + " is only known when the plan runs: the prompt is given at run time")
                }
                return nil
            }
            return constant(.list(dims.map { .int($0) }), type: .tensor(.i64, [.known(dims.count)]), range: range)
        }
        if name.name == "T", case .tensor(let d, let s) = v.type, s.count == 2 {
            let t = tensorValue(v)
            return emit(.transpose(operandID(t), 0, 1), type: .tensor(d, [s[1], s[0]]), operands: [t], range: range)
        }
        report(.unknownMethod(name.name, suggestion: nil), at: name.range)
        return nil
    }

    func checkResult(_ name: Identifier, _ range: SourceRange) -> ValueRef? {
        guard let g = lastGenerate, block?.index ?? Int.max >= g, !insideStepBody else {
            report(.resultBeforeGenerate(), at: range)
            return nil
        }
        let rows = blocks.count > g ? blocks[g].invokes.first?.rows ?? 1 : block?.invokes.first?.rows ?? 1
        let phase: Phase = block?.index == g ? .after : .before
        switch name.name {
        case "ids":
            return emit(.resultIds, type: .tensor(.i64, [.known(rows), generatedWidth]), operands: [], range: range, phase: phase)
        case "text":
            return emit(.resultText, type: .strings(rows), operands: [], range: range, phase: phase)
        default:
            report(.unknownModelAttribute("result.\(name.name)", suggestion: suggestion(for: name.name, among: ["ids", "text"]).map { "result." + $0 }), at: name.range)
            return nil
        }
    }

    /// `c[l]` of an indexed name.
    func indexedElement(_ name: String, _ elements: [[Int]: ValueRef], _ items: [SubscriptIndex], _ range: SourceRange) -> ValueRef? {
        var index: [Int] = []
        for item in items {
            guard case .expr(let e) = item, let v = checkExpr(e) else {
                report(.indexType(.str), at: item.range)
                return nil
            }
            guard let i = v.constant?.intValue else {
                report(.argumentType("the index of `\(name)`", expected: "a compile-time integer", got: v.type), at: e.range)
                return nil
            }
            index.append(i)
        }
        guard var v = elements[index] else {
            report(.undefinedIndex(name, index, defined: Array(elements.keys)), at: range)
            return nil
        }
        v.range = range
        return v
    }

    // MARK: The model

    /// The path of a pure model chain (`model.layers[4]`, for `skip`), or nil after reporting.
    func modelPath(_ e: Expr) -> ModelPath? {
        let (root, parts) = chain(e)
        guard case .model = root.kind else {
            report(.notSkippable(text(e.range)), at: e.range)
            return nil
        }
        var path = ModelPath(display: "")
        for part in parts {
            switch part {
            case .attribute(let n):
                path.components.append(n.name)
                path.display += (path.display.isEmpty ? "" : ".") + n.name
            case .index(let items, _):
                guard let i = layerIndex(items, path) else { return nil }
                path.components.append(String(i))
                path.display += "[\(i)]"
            case .call(_, let r):
                report(.notSkippable(text(e.range)), at: r)
                return nil
            }
        }
        return path
    }

    /// A compile-time layer index inside a model path, checked against the layer count.
    func layerIndex(_ items: [SubscriptIndex], _ path: ModelPath) -> Int? {
        guard items.count == 1, case .expr(let e) = items[0], let v = checkExpr(e) else {
            report(.indexType(.str), at: items.first?.range ?? .empty(at: 0))
            return nil
        }
        guard var i = v.constant?.intValue else {
            report(.argumentType("a layer index", expected: "a compile-time integer", got: v.type), at: e.range)
            return nil
        }
        let n = signature.config.numLayers
        let last = path.components.last ?? ""
        if last == "layers" || last == "h" {
            if i < 0 { i += n }
            if i < 0 || i >= n {
                report(.layerOutOfRange(v.constant!.intValue!, layers: n), at: e.range)
                return nil
            }
        }
        return i
    }

    var modelNames: [String] {
        signature.points.allNames + signature.points.modules.flatMap { [$0.canonicalName, $0.hfName] }
            + signature.dimensions.map(\.0) + signature.callables.flatMap { [$0.name, $0.hfName] }
    }

    /// Resolves `model....` up to an access point (read), a callable module (called), or a
    /// dimension; returns the value and how many parts were consumed.
    func checkModelChain(_ root: Expr, _ parts: [ChainPart], whole: Expr) -> (ValueRef, Int)? {
        var path = ModelPath(display: "model")
        var range = root.range
        var i = 0
        while i < parts.count {
            switch parts[i] {
            case .attribute(let n):
                path.components.append(n.name)
                path.display += "." + n.name
                range = range.union(n.range)
                let next = i + 1 < parts.count ? parts[i + 1] : nil
                let nextIsCall: Bool = { if case .call = next { return true }; return false }()
                if nextIsCall {
                    guard case .call(let args, let r) = next else { return nil }
                    if let callable = signature.callable(named: path.name) {
                        guard let v = callModule(callable, path, args, range.union(r)) else { return nil }
                        return (v, i + 2)
                    }
                    if signature.points.module(named: path.name) != nil {
                        report(.notCallable(path.display, why: whyNotCallable(path)), at: range)
                        return nil
                    }
                }
                if let w = signature.weight(named: path.name) {
                    if nextIsCall {
                        report(.notCallable(path.display, why: "it is a weight, a tensor; call its module instead"), at: range)
                        return nil
                    }
                    let v = emit(.weight(w.name), type: .tensor(.f32, w.shape.map { .known($0) }), operands: [], range: range, phase: .before)
                    return (v, i + 1)
                }
                if let point = signature.points.point(named: path.name) {
                    if case .attribute(let g)? = next, g.name == "grad" {
                        guard let v = readGradient(point, range.union(g.range)) else { return nil }
                        return (v, i + 2)
                    }
                    guard let v = readPoint(point, range) else { return nil }
                    return (v, i + 1)
                }
                if path.components == ["attention_mask"] {
                    // The padding of the invoke's prompt rows: known before the pass.
                    guard let b = block, b.hasPrompt || invoke != nil else {
                        report(.pointOutsideBlock(), at: range)
                        return nil
                    }
                    let rows = b.invokes.isEmpty ? 1 : b.invokes[invoke ?? 0].rows
                    let v = emit(.attentionMask, type: .tensor(.i64, [.known(rows), b.tokens]), operands: [], range: range, phase: .before)
                    return (v, i + 1)
                }
                if path.components.count == 1, let d = signature.dimension(n.name) {
                    return (constant(.int(d), type: .int, range: range), i + 1)
                }
                if next == nil || nextIsCall {
                    let sug = suggestion(for: path.name, among: modelNames).map(displayName)
                    // `model.x`: likely a constant or module misspelt; deeper: a point.
                    report(path.components.count == 1 ? .unknownModelAttribute(path.display, suggestion: sug)
                                                       : .unknownPoint(path.display, suggestion: sug), at: range)
                    return nil
                }
                i += 1
            case .index(let items, let r):
                guard let idx = layerIndex(items, path) else { return nil }
                path.components.append(String(idx))
                path.display += "[\(idx)]"
                range = range.union(r)
                i += 1
            case .call(_, let r):
                let why = path.components.isEmpty ? "`model` itself needs token ids, positions and a cache" : whyNotCallable(path)
                report(.notCallable(path.display, why: why), at: range.union(r))
                return nil
            }
        }
        let sug = suggestion(for: path.name, among: modelNames).map(displayName)
        report(.unknownModelAttribute(path.display, suggestion: sug), at: range)
        return nil
    }

    func whyNotCallable(_ path: ModelPath) -> String {
        let last = path.components.last ?? ""
        if last == "attn" || last == "self_attn" { return "attention needs positions and the key/value cache" }
        if Int(last) != nil { return "a decoder layer needs positions and the key/value cache" }
        return "it is not a pure function of one tensor"
    }

    /// The type of a point in the current invoke and steps.
    func pointType(_ point: Point) -> ValueType {
        let b = block!
        let rows = b.invokes.isEmpty ? 1 : b.invokes[invoke ?? 0].rows
        let tokens: ShapeDim, keys: ShapeDim
        if steps == .prompt {
            tokens = b.tokens
            keys = b.tokens
        } else if steps.first >= 1 {
            tokens = .known(1)
            if case .only(let n) = steps, let t = b.tokens.value { keys = .known(t + n) } else { keys = .symbol("S") }
        } else {
            tokens = .symbol("T")
            keys = .symbol("S")
        }
        let dims: [ShapeDim] = point.shape.map {
            switch $0 {
            case .batch: return .known(rows)
            case .tokens: return tokens
            case .keys: return keys
            case .fixed(let n): return .known(n)
            }
        }
        return .tensor(.f32, dims)
    }

    func readPoint(_ point: Point, _ range: SourceRange) -> ValueRef? {
        defer {
            if recordTypes, block != nil {
                recorded.append(CheckedExpression(range: range, type: pointType(point), constant: nil, accessPoint: point, isRunTimeParam: nil, loopValues: loopValues))
            }
        }
        guard let b = block, b.hasPrompt || invoke != nil else {
            report(.pointOutsideBlock(), at: range)
            return nil
        }
        if let m = skippingModule(of: point) {
            report(.pointInSkippedModule(displayName(point.name), module: displayName(m.canonicalName)), at: range)
            return nil
        }
        return emit(.readPoint(point.id), type: pointType(point), operands: [], range: range, phase: .point(point.id), sourcePoint: point.id)
    }

    /// `point.grad`: the gradient of this invoke's `backward` scalar with respect to the
    /// point's value, read when the reverse pass reaches the point.
    func readGradient(_ point: Point, _ range: SourceRange) -> ValueRef? {
        guard let b = block, b.hasPrompt || invoke != nil else {
            report(.pointOutsideBlock(), at: range)
            return nil
        }
        guard mayUseGradient(of: point, range) else { return nil }
        return emit(.readPoint(point.id), type: pointType(point), operands: [], range: range, phase: .grad(point.id), sourcePoint: point.id)
    }

    /// Gradients exist in a trace, after the invoke's `backward`.
    func mayUseGradient(of point: Point, _ range: SourceRange) -> Bool {
        guard let b = block, !b.isGenerate else {
            report(.gradientInGenerate(), at: range)
            return false
        }
        guard b.backwards[invoke ?? -1] != nil else {
            report(.gradientBeforeBackward(displayName(point.name)), at: range)
            return false
        }
        return true
    }

    func callModule(_ c: CallableModule, _ path: ModelPath, _ args: [CallArgument], _ range: SourceRange) -> ValueRef? {
        guard args.count == 1, args[0].label == nil else {
            report(.argumentCount(path.display, "takes exactly one tensor"), at: range)
            return nil
        }
        guard let v = checkExpr(args[0].value) else { return nil }
        let t = tensorValue(v)
        guard case .tensor(let dtype, let shape) = t.type else {
            report(.notATensor(path.display, v.type), at: args[0].value.range)
            return nil
        }
        if let inLast = c.inputLast {
            guard dtype == .f32, shape.last == .known(inLast) else {
                report(.argumentType("the input of \(path.display)", expected: "f32[..., \(inLast)]", got: v.type), at: args[0].value.range)
                return nil
            }
            return emit(.callModule(c.name, operandID(t)), type: .tensor(.f32, Array(shape.dropLast()) + [.known(c.outputLast)]), operands: [t], range: range)
        }
        guard dtype == .i32 || dtype == .i64 else {
            report(.argumentType("the input of \(path.display)", expected: "integer token ids", got: v.type), at: args[0].value.range)
            return nil
        }
        return emit(.callModule(c.name, operandID(t)), type: .tensor(.f32, shape + [.known(c.outputLast)]), operands: [t], range: range)
    }
}
