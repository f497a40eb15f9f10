import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

extension CheckContext {
    /// `point[index] op= value`: the target must be an access point (optionally indexed),
    /// the value must broadcast to it, be numeric f32-compatible, and exist by the time the
    /// forward pass reaches the point.
    func checkAssignment(_ a: Assignment, _ range: SourceRange) {
        let (root, parts) = chain(a.target)
        if case .name(let n) = root.kind, parts.count == 1, case .index(let items, let r) = parts[0] {
            checkEdit(n, items, r, a, range)
            return
        }
        guard case .model = root.kind else {
            let what: String
            if case .name(let n) = root.kind { what = "`\(n)`" } else { what = "`\(text(a.target.range))`" }
            report(.notAssignable(what), at: a.target.range)
            return
        }
        guard let b = block, b.hasPrompt || invoke != nil else {
            report(.pointOutsideBlock(), at: a.target.range)
            return
        }
        // The point: the chain up to the first attribute that names one.
        var path = ModelPath(display: "model")
        var pointInfo: Point?
        var consumed = 0
        var targetRange = root.range
        for (k, part) in parts.enumerated() {
            switch part {
            case .attribute(let n):
                path.components.append(n.name)
                path.display += "." + n.name
                targetRange = targetRange.union(n.range)
            case .index(let items, let r):
                guard let i = layerIndex(items, path) else { return }
                path.components.append(String(i))
                path.display += "[\(i)]"
                targetRange = targetRange.union(r)
            case .call(_, let r):
                report(.notAssignable("the result of a call"), at: r)
                return
            }
            if let p = signature.points.point(named: path.name) {
                pointInfo = p
                consumed = k + 1
                break
            }
            if signature.weight(named: path.name) != nil {
                report(.notAssignable("a weight of the model (weights are read-only; write the module's output instead)"), at: targetRange)
                return
            }
        }
        guard let point = pointInfo else {
            let sug = suggestion(for: path.name, among: signature.points.allNames).map(displayName)
            report(.unknownPoint(path.display, suggestion: sug), at: targetRange)
            return
        }
        if let m = skippingModule(of: point) {
            report(.writeAfterSkip(path.display, module: displayName(m.canonicalName)), at: targetRange)
            return
        }
        var targetType = pointType(point)
        var items: [IndexItem] = []
        // `point.grad[...] op= value` changes the gradient flowing back through the point.
        var gradient = false
        if consumed < parts.count, case .attribute(let g) = parts[consumed], g.name == "grad" {
            guard mayUseGradient(of: point, targetRange.union(g.range)) else { return }
            gradient = true
            consumed += 1
            path.display += ".grad"
            targetRange = targetRange.union(g.range)
        }
        let phaseHere: Phase = gradient ? .grad(point.id) : .point(point.id)
        let rest = parts[consumed...]
        if let first = rest.first {
            guard rest.count == 1, case .index(let idx, let r) = first else {
                report(.notAssignable("`\(text(a.target.range))`"), at: a.target.range)
                return
            }
            guard let (its, t) = indexItems(ValueRef(id: ValueID(-1), type: targetType, constant: nil, anchor: currentAnchor, range: targetRange),
                                            idx, targetRange.union(r)) else { return }
            items = its
            targetType = t
            if items.contains(where: { if case .gather = $0 { return true }; return false }) {
                report(.indexForWrite("a write into the model"), at: r, help: "for a mask, write the whole point: `p = where(mask.unsqueeze(-1), value, p)`")
                return
            }
        }
        guard let value = checkExpr(a.value) else { return }
        guard value.type == .int || value.type == .float || value.type.elementType == .f32 else {
            report(.writeDType(value.type), at: a.value.range)
            return
        }
        let targetShape = targetType.shape!, valueShape = value.type.shape!
        let (combined, bad) = broadcastShapes(targetShape, valueShape)
        if combined != targetShape {
            var note: String?
            let r0 = max(targetShape.count, valueShape.count)
            if let i = bad ?? (0..<r0).first(where: { combined?[$0] != (i2d(targetShape, $0, r0)) }) {
                let t = i2d(targetShape, i, r0), v = i2d(valueShape, i, r0)
                let dimIndex = i - (r0 - targetShape.count)
                note = dimIndex >= 0 ? "dimension \(dimIndex): \(v) does not broadcast to \(t)" : "the value has more dimensions than the target"
            }
            var d = Diagnostic(CheckMessage.assignShape(value: value.type, target: text(a.target.range), targetType: targetType, note: note), at: a.value.range)
            d.secondary.append(Label(a.target.range, targetType.description))
            diagnostics.append(d)
            return
        }
        // Causality: everything the write uses must exist when the pass reaches the point.
        let operands = [value] + items.flatMap(\.operands).map { refFor($0) }
        for op in operands where op.id != nil || op.constant == nil {
            let phase = effectivePhase(op)
            if phase > phaseHere {
                let valuePoint: String
                switch phase {
                case .point(let p): valuePoint = displayName(signature.points.points[p].name)
                case .grad(let p): valuePoint = displayName(signature.points.points[p].name) + ".grad"
                case .after: valuePoint = "the generation's result"
                case .before: valuePoint = "?"
                }
                let sameInvoke = op.anchor.invoke == invoke || op.anchor.block != block?.index
                let message: CheckMessage = sameInvoke
                    ? .usedBeforeComputed(value: valuePoint, target: path.display)
                    : .laterInvokeValue(value: valuePoint, target: path.display)
                report(message, at: op.range, secondary: [Label(a.target.range, "written here, when the model computes \(path.display)")],
                       notes: ["the model computes \(path.display) before \(valuePoint)"])
                return
            }
        }
        let v = tensorValue(value)
        let fn = AssignFn(a.op)
        emit(.write(point: point.id, index: items, fn: fn, value: operandID(v)), type: nil, operands: operands.map { $0.id == nil ? materialize($0) : $0 },
             range: range, phase: phaseHere)
    }

    /// `f[index] op= value` on a `let` name: the name is bound to a copy of its value with
    /// the region changed (`update`); whoever read the old value keeps it.
    private func checkEdit(_ name: String, _ idx: [SubscriptIndex], _ indexRange: SourceRange, _ a: Assignment, _ range: SourceRange) {
        guard let scope = scopes.last(where: { $0.symbols[name] != nil }), let (symbol, defined) = scope.symbols[name] else {
            let sug = suggestion(for: name, among: scopes.flatMap { Array($0.symbols.keys) })
            report(.undefinedName(name, suggestion: sug), at: a.target.range)
            return
        }
        let base: ValueRef
        switch symbol {
        case .value(let v): base = v
        case .poisoned: return
        case .param: report(.notAssignable("the param `\(name)`"), at: a.target.range); return
        case .indexed: report(.notAssignable("an element of the indexed name `\(name)`"), at: a.target.range); return
        }
        if scope.steps != steps || scope.guardValue != guardValue {
            let whereText = scope.guardValue != guardValue ? "inside a run-time `if`" : "inside a `step` body"
            report(.editOutside(name, whereText), at: a.target.range, secondary: [Label(defined, "defined here, outside")])
            return
        }
        guard case .tensor(let dtype, _) = base.type, dtype == .f32 || dtype == .i64 else {
            report(.notATensor("an indexed edit", base.type), at: a.target.range)
            return
        }
        let baseValue = tensorValue(base)
        guard let (items, targetType) = indexItems(baseValue, idx, a.target.range) else { return }
        if items.contains(where: { if case .gather = $0 { return true }; return false }) {
            report(.indexForWrite("an edit"), at: indexRange, help: "for a mask, bind `where(mask, value, x)`")
            return
        }
        guard let value = checkExpr(a.value) else { return }
        let fits = dtype == .f32 ? (value.type == .int || value.type == .float || value.type.elementType == .f32)
                                 : (value.type == .int || value.type.elementType == .i64)
        guard fits else {
            report(.editDType(value.type, target: base.type), at: a.value.range)
            return
        }
        if dtype != .f32 && a.op != .assign {
            report(.editDType(value.type, target: base.type), at: a.value.range, notes: ["an \(dtype.rawValue) tensor is edited with `=` only"])
            return
        }
        let targetShape = targetType.shape!, valueShape = value.type.shape!
        if broadcastShapes(targetShape, valueShape).0 != targetShape {
            var d = Diagnostic(CheckMessage.assignShape(value: value.type, target: text(a.target.range), targetType: targetType, note: nil), at: a.value.range)
            d.secondary.append(Label(a.target.range, targetType.description))
            diagnostics.append(d)
            return
        }
        // A name bound straight to an access point holds a copy: editing it leaves the model as it was.
        if let id = baseValue.id, case let op = instructions[id.index].op {
            var source: Int?
            if case .readPoint(let p) = op { source = p }
            if case .index(let b, _) = op, case .readPoint(let p) = instructions[b.index].op { source = p }
            if let p = source {
                report(.editsCopy(name, point: displayName(signature.points.points[p].name)), at: a.target.range,
                       secondary: [Label(defined, "a copy, taken here")])
            }
        }
        let v = tensorValue(value)
        let fn = AssignFn(a.op)
        let operands = [baseValue] + items.flatMap(\.operands).map { refFor($0) } + [v]
        var edited = emit(.update(operandID(baseValue), index: items, fn: fn, value: operandID(v)), type: base.type,
                          operands: operands.map { $0.id == nil ? materialize($0) : $0 }, range: range)
        edited.range = base.range
        scope.symbols[name] = (.value(edited), defined)
    }

    private func i2d(_ shape: [ShapeDim], _ i: Int, _ r0: Int) -> ShapeDim {
        i < r0 - shape.count ? .known(1) : shape[i - (r0 - shape.count)]
    }
}

extension AssignFn {
    /// The function of an assignment operator (`=` sets, `+=` adds, ...).
    init(_ op: AssignOperator) {
        switch op {
        case .assign: self = .set
        case .add: self = .add
        case .subtract: self = .sub
        case .multiply: self = .mul
        case .divide: self = .div
        }
    }
}
