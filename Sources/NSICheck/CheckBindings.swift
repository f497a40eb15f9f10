import Foundation
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

extension CheckContext {
    func checkBinding(_ b: Binding, _ range: SourceRange) {
        guard block != nil || b.kind == .let else {
            report(.misplaced("`\(b.kind.rawValue)`", "outside a trace or generate block"), at: range)
            return
        }
        var index: [Int] = []
        for e in b.indices {
            guard let v = checkExpr(e) else { return }
            guard let i = v.constant?.intValue else {
                report(.argumentType("the index of an indexed name", expected: "a compile-time integer", got: v.type), at: e.range)
                return
            }
            index.append(i)
        }
        guard let value = checkExpr(b.value) else { return }
        switch b.kind {
        case .let:
            if index.isEmpty {
                define(b.name.name, .value(value), at: b.name.range)
            } else {
                defineIndexed(b.name, index, value)
            }
        case .save:
            let key = ([b.name.name] + index.map(String.init)).joined(separator: ".")
            save(key: key, name: b.name.name, value: value, range: b.name.range.union(b.indices.last?.range ?? b.name.range), valueRange: b.value.range)
            // The saved value is also a name, as if bound with `let`, where that name is free.
            switch lookup(b.name.name)?.0 {
            case nil:
                if index.isEmpty { define(b.name.name, .value(value), at: b.name.range) } else { defineIndexed(b.name, index, value) }
            case .indexed(let elements, _)? where !index.isEmpty && elements[index] == nil:
                defineIndexed(b.name, index, value)
            default:
                break
            }
        }
    }

    func defineIndexed(_ name: Identifier, _ index: [Int], _ value: ValueRef) {
        let scope = indexedScope
        if let (symbol, earlier) = scope.symbols[name.name] {
            guard case .indexed(var elements, let r) = symbol else {
                report(.plainWithIndex(name.name), at: name.range, secondary: [Label(earlier, "defined here")])
                return
            }
            if let old = elements[index] {
                report(.duplicateDefinition("\(name.name)[\(index.map(String.init).joined(separator: ", "))]"), at: name.range,
                       secondary: [Label(old.range, "first defined here")])
                return
            }
            elements[index] = value
            scope.symbols[name.name] = (.indexed(elements, range: r), earlier)
        } else {
            scope.symbols[name.name] = (.indexed([index: value], range: name.range), name.range)
            scope.order.append(name.name)
        }
    }

    func save(key: String, name: String, value: ValueRef, range: SourceRange, valueRange: SourceRange) {
        if !steps.isSingle {
            report(.multiStepSave(name, steps), at: range)
            return
        }
        if let earlier = saveRanges[key] {
            report(.duplicateSave(key), at: range, secondary: [Label(earlier, "first saved here")])
            return
        }
        saveRanges[key] = range
        let v = materialize(value)
        emit(.save(key: key, operandID(v)), type: nil, operands: [v], range: range)
        saves.append(SaveInfo(key: key, type: value.type, range: span(range)))
    }

    func checkSkip(_ s: SkipStmt, _ range: SourceRange) {
        guard let b = block, b.hasPrompt || invoke != nil else {
            report(.pointOutsideBlock(), at: range)
            return
        }
        guard let path = modelPath(s.module) else { return }
        guard let module = signature.points.module(named: path.name) else {
            report(.notSkippable(displayName(path.name)), at: s.module.range)
            return
        }
        block?.skipped.append((invoke ?? 0, steps, module.id))
        emit(.skip(module: module.id), type: nil, operands: [], range: range, phase: .before)
    }

    /// `backward m`: once per invoke of a trace, from an f32 scalar the model computes in
    /// this pass. Gradients (`.grad`) may be used after it.
    func checkBackward(_ e: Expr, _ range: SourceRange) {
        guard let b = block, b.hasPrompt || invoke != nil else {
            report(.pointOutsideBlock(), at: range)
            return
        }
        guard !b.isGenerate else {
            report(.gradientInGenerate(), at: range)
            return
        }
        guard steps == .prompt, guardValue == nil else {
            report(.misplaced("`backward`", "inside a runtime `if`", help: "take the backward of a value chosen with `where(...)` instead"), at: range)
            return
        }
        if let earlier = b.backwards[invoke ?? -1] {
            report(.duplicateBackward(), at: range, secondary: [Label(earlier, "the first `backward`")])
            return
        }
        guard let v = checkExpr(e) else { return }
        guard case .tensor(.f32, let shape) = v.type, shape.isEmpty else {
            report(.backwardShape(v.type), at: e.range)
            return
        }
        let phase = effectivePhase(v)
        guard v.id != nil, case .point = phase else {
            report(.backwardOfConstant(), at: e.range)
            return
        }
        block?.backwards[invoke ?? -1] = range
        emit(.backward(operandID(v)), type: nil, operands: [v], range: range)
    }

    /// The module a point belongs to when that module is skipped in the current invoke.
    func skippingModule(of point: Point) -> Module? {
        guard let b = block, let layer = point.layer else { return nil }
        for (inv, set, id) in b.skipped where inv == (invoke ?? 0) && set.overlaps(steps) {
            let m = signature.points.modules[id]
            guard m.layer == layer else { continue }
            let ids = signature.points.layers[layer]
            switch m.kind {
            case .layer:
                if point.id != ids.output { return m }
            case .attn:
                if (ids.qkvProj + [ids.q, ids.k, ids.v, ids.scores, ids.pattern, ids.z, ids.oProjInput]).contains(point.id) { return m }
            case .mlp:
                if (ids.mlpProj + [ids.mlpAct]).contains(point.id) { return m }
            }
        }
        return nil
    }

    // MARK: Params

    func checkParam(_ p: ParamDecl, _ range: SourceRange) {
        guard let typeName = p.type.typeName else { return }   // unknown type names: reported by the parser
        var type: ValueType
        switch typeName {
        case .int: type = .int
        case .float: type = .float
        case .bool: type = .bool
        case .str: type = .str
        case .tensor, .f32, .i32, .i64:
            var dims: [ShapeDim] = []
            for d in p.type.dimensions ?? [] {
                // A capital letter not otherwise defined names a dimension of any size (`B`, `T`).
                if case .name(let s) = d.kind, s.count == 1, s.first!.isUppercase, lookup(s) == nil {
                    dims.append(.symbol(s))
                    continue
                }
                guard let v = checkExpr(d) else { return }
                if let n = v.constant?.intValue, n >= 0 { dims.append(.known(n)) }
                else { report(.argumentType("a tensor dimension", expected: "a non-negative compile-time integer", got: v.type), at: d.range); return }
            }
            type = .tensor(typeName == .i32 ? .i32 : typeName == .i64 ? .i64 : .f32, dims)
        }
        let binding: ParamBinding = (type == .int || type == .bool) ? .compileTime : .runTime
        var info = ParamInfo(name: p.name.name, type: type, binding: binding, value: nil, tensorDefault: nil, range: span(range))
        // After a reported problem the param is still defined, so its uses raise no more errors.
        let errorsBefore = diagnostics.count
        defer { defineParam(info, p, poisoned: diagnostics.count > errorsBefore) }
        if let override = paramOverrides[p.name.name], case .tensor(let dtype, let want) = type {
            // `--param ids=[[1, 2, 3]]`: nested lists of the declared shape.
            guard let (shape, values) = parseTensorText(override), shape.count == want.count,
                  zip(want, shape).allSatisfy({ $0.value == nil || $0.value == $1 }),
                  dtype == .f32 || values.allSatisfy({ $0 == $0.rounded() }) else {
                report(.paramValue(p.name.name, override, type), at: p.name.range)
                return
            }
            info.tensorDefault = (shape, values.map(Float.init))
        } else if let override = paramOverrides[p.name.name] {
            guard let c = parseParamValue(override, type: type) else {
                report(.paramValue(p.name.name, override, type), at: p.name.range)
                return
            }
            info.value = c
        } else if let d = p.defaultValue {
            guard let v = checkExpr(d) else { return }
            if case .tensor(let dtype, _) = type {
                let tv = tensorValue(v)
                guard case .tensor(let given, let shape) = v.type, let known = shape.allKnown, dtype == .f32 || given != .f32,
                      let id = tv.id, case .tensorConstant(let s, let data) = instructions[id.index].op else {
                    report(.paramType(p.name.name, expected: type, got: v.type), at: d.range)
                    return
                }
                guard case .tensor(_, let want) = type, want.count == s.count, zip(want, known).allSatisfy({ $0.value == nil || $0.value == $1 }) else {
                    report(.paramType(p.name.name, expected: type, got: v.type), at: d.range)
                    return
                }
                info.tensorDefault = (s, data)
            } else {
                guard let c = v.constant, fits(c, type) else {
                    report(.paramType(p.name.name, expected: type, got: v.type), at: d.range)
                    return
                }
                info.value = type == .float ? .float(c.numberValue ?? 0) : c
            }
        } else if binding == .compileTime {
            report(.paramMissing(p.name.name), at: p.name.range)
        }
    }

    func defineParam(_ info: ParamInfo, _ p: ParamDecl, poisoned: Bool) {
        if poisoned {
            define(p.name.name, .poisoned, at: p.name.range)
            return
        }
        params.append(info)
        let ref: ValueRef
        if info.binding == .compileTime, let c = info.value {
            ref = constant(c, type: info.type, range: p.name.range)
        } else {
            ref = emit(.param(p.name.name), type: info.type, operands: [], range: p.name.range, phase: .before)
        }
        define(p.name.name, .param(info, ref), at: p.name.range)
    }

    func fits(_ c: ConstValue, _ type: ValueType) -> Bool {
        switch (c, type) {
        case (.int, .int), (.int, .float), (.float, .float), (.bool, .bool), (.str, .str): return true
        default: return false
        }
    }

    func parseParamValue(_ text: String, type: ValueType) -> ConstValue? {
        switch type {
        case .int: return Int(text).map { .int($0) }
        case .float: return Double(text).map { .float($0) }
        case .bool: return text == "true" ? .bool(true) : text == "false" ? .bool(false) : nil
        case .str: return .str(text)
        default: return nil
        }
    }

    func checkParamOverrides(_ script: Script) {
        let declared = script.statements.compactMap { s -> String? in
            if case .param(let p) = s.kind { return p.name.name }
            return nil
        }
        for name in paramOverrides.keys.sorted() where !declared.contains(name) {
            report(.unknownParam(name, suggestion: suggestion(for: name, among: declared)), at: .empty(at: 0))
        }
    }
}
