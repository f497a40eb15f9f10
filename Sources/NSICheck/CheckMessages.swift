import NSIIR

/// Every wording the checker reports, in one place.
extension CheckMessage {
    static func undefinedName(_ name: String, suggestion: String?) -> CheckMessage {
        CheckMessage(checkCode: .undefinedName, text: "cannot find `\(name)` in scope", label: "not defined",
                     help: suggestion.map { "did you mean `\($0)`?" })
    }
    static func duplicateDefinition(_ name: String) -> CheckMessage {
        CheckMessage(checkCode: .duplicateDefinition, text: "`\(name)` is already defined in this scope", label: "defined again here")
    }
    static func shadowed(_ name: String) -> CheckMessage {
        CheckMessage(checkCode: .shadowedName, text: "`\(name)` hides a name defined in an outer scope", label: "hides the outer `\(name)`")
    }
    static func misplaced(_ what: String, _ whereText: String, help: String? = nil) -> CheckMessage {
        CheckMessage(checkCode: .misplacedStatement, text: "\(what) cannot appear \(whereText)", help: help)
    }
    static func indexedWithoutIndex(_ name: String) -> CheckMessage {
        CheckMessage(checkCode: .indexedNameMisuse, text: "`\(name)` is an indexed name; use it with an index, as `\(name)[i]`")
    }
    static func plainWithIndex(_ name: String) -> CheckMessage {
        CheckMessage(checkCode: .indexedNameMisuse, text: "`\(name)` is a plain name and cannot be defined or used with an index")
    }
    static func undefinedIndex(_ name: String, _ index: [Int], defined: [[Int]]) -> CheckMessage {
        let have = defined.sorted { $0.lexicographicallyPrecedes($1) }.prefix(8).map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }
        return CheckMessage(checkCode: .undefinedIndex, text: "`\(name)[\(index.map(String.init).joined(separator: ", "))]` was never defined",
                            notes: have.isEmpty ? [] : ["`\(name)` is defined at " + have.joined(separator: ", ") + (defined.count > 8 ? ", ..." : "")])
    }
    static func duplicateSave(_ key: String) -> CheckMessage {
        CheckMessage(checkCode: .duplicateSave, text: "the result `\(key)` is saved twice", label: "saved again here")
    }
    static func nonStaticLoop(_ what: String) -> CheckMessage {
        CheckMessage(checkCode: .nonStaticLoop, text: "a `for` loop needs \(what) known when compiling",
                     help: "loop over a range of compile-time integers (`0..<model.num_layers`) or a list literal")
    }
    static func resultBeforeGenerate() -> CheckMessage {
        CheckMessage(checkCode: .resultBeforeGenerate, text: "`result` is only available inside or after a `generate` block, outside its `step` bodies")
    }
    static func notAssignable(_ what: String) -> CheckMessage {
        CheckMessage(checkCode: .notAssignable, text: "cannot assign to \(what): only access points of the model and parts of `let` values can be written",
                     help: "bind a new value with `let`, or edit part of one with `name[...] = value`")
    }
    static func editOutside(_ name: String, _ whereText: String) -> CheckMessage {
        CheckMessage(checkCode: .notAssignable, text: "cannot edit `\(name)` \(whereText): it is defined outside, where its value would then depend on the run",
                     label: "edited here", help: "bind a new name inside (`let g = \(name)` then `g[...] = ...`), or choose with `where(...)`")
    }
    static func editDType(_ value: ValueType, target: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .writeDType, text: "cannot write a \(value) value into \(target)", label: "of type \(value)")
    }
    static func editsCopy(_ name: String, point: String) -> CheckMessage {
        CheckMessage(checkCode: .editsCopy, text: "`\(name)` is a copy of \(point): this edits the copy, not the model",
                     label: "edits the copy", help: "to change the model, write to the point: `\(point)[...] = ...`")
    }
    static func emptyTrace() -> CheckMessage {
        CheckMessage(checkCode: .emptyTrace, text: "a `trace` without a prompt needs at least one `invoke`")
    }
    static func unknownOption(_ name: String, _ detail: String) -> CheckMessage {
        CheckMessage(checkCode: .unknownOption, text: "generate option `\(name)` \(detail)",
                     notes: ["options: max_tokens (int), temperature (float), top_k (int), top_p (float), seed (int)"])
    }
    static func multiStepSave(_ name: String, _ steps: StepSet) -> CheckMessage {
        CheckMessage(checkCode: .multiStepSave, text: "`save \(name)` runs at \(steps), so it would save several values under one key",
                     help: "save inside a `step N` block, or use an indexed name such as `save \(name)[s]` in a loop over steps")
    }
    static func tooMuchWork(_ limit: Int) -> CheckMessage {
        CheckMessage(checkCode: .tooMuchWork, text: "checking this script takes more than \(limit) expression checks (unrolled loops repeat their bodies)",
                     help: "loop over fewer values, or move work out of the loop body")
    }
    static func loopTooLong(_ limit: Int) -> CheckMessage {
        CheckMessage(checkCode: .loopTooLong, text: "static loops unroll to more than \(limit) iterations")
    }
    static func assignShape(value: ValueType, target: String, targetType: ValueType, note: String?) -> CheckMessage {
        CheckMessage(checkCode: .assignShape, text: "cannot assign \(value) to \(target) of shape \(targetType)",
                     label: value.description, notes: note.map { [$0] } ?? [])
    }
    static func broadcast(_ a: ValueType, _ b: ValueType, axis: String) -> CheckMessage {
        CheckMessage(checkCode: .broadcast, text: "shapes \(a) and \(b) do not broadcast", notes: [axis])
    }
    static func indexOutOfRange(_ index: Int, dim: Int, size: Int) -> CheckMessage {
        CheckMessage(checkCode: .indexOutOfRange, text: "index \(index) is out of range for dimension \(dim) of size \(size)",
                     label: "valid: \(-size)..<\(size)")
    }
    static func tooManyIndices(_ count: Int, rank: Int, type: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .tooManyIndices, text: "\(count) indices for a value of type \(type) with \(rank) dimensions")
    }
    static func argumentType(_ what: String, expected: String, got: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .argumentType, text: "\(what) must be \(expected), not \(got)", label: got.description)
    }
    /// An argument of the right type whose value is out of bounds.
    static func argumentValue(_ what: String, expected: String, got: String) -> CheckMessage {
        CheckMessage(checkCode: .argumentType, text: "\(what) must be \(expected), not \(got)", label: got)
    }
    static func unknownMethod(_ name: String, suggestion: String?) -> CheckMessage {
        CheckMessage(checkCode: .unknownMethod, text: "tensors have no method `\(name)`",
                     help: suggestion.map { "did you mean `\($0)`?" })
    }
    static func argumentCount(_ what: String, _ detail: String) -> CheckMessage {
        CheckMessage(checkCode: .argumentCount, text: "\(what): \(detail)")
    }
    static func dimOutOfRange(_ dim: Int, rank: Int) -> CheckMessage {
        CheckMessage(checkCode: .dimOutOfRange, text: "dimension \(dim) is out of range for a value with \(rank) dimensions",
                     label: rank == 0 ? "a scalar has no dimensions" : "valid: \(-rank)..<\(rank)")
    }
    /// `transposed` names the operand (`right` or `left`) whose `.T` would make the
    /// product valid: a weight is stored `[out, in]`, so `h @ W` is a common slip for `h @ W.T`.
    static func matmulShape(_ a: ValueType, _ b: ValueType, transposed: String? = nil) -> CheckMessage {
        CheckMessage(checkCode: .matmulShape, text: "cannot multiply \(a) by \(b): inner dimensions differ",
                     help: transposed.map { "the \($0) operand transposed fits: add `.T` to it (a weight is stored [out, in])" })
    }
    static func writeDType(_ t: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .writeDType, text: "writes into activations must be f32 (or numbers), not \(t)", label: t.description,
                     help: "convert with arithmetic on floats, e.g. `x * 1.0`")
    }
    static func indexForWrite(_ what: String) -> CheckMessage {
        CheckMessage(checkCode: .indexType, text: "\(what) takes positions and slices, not integer-tensor indices or boolean masks",
                     label: "an integer tensor or a mask")
    }
    static func indexType(_ t: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .indexType, text: "an index must be an integer, an integer tensor, a boolean mask or a slice, not \(t)", label: t.description)
    }
    static func reshapeCount(_ from: ValueType, _ to: [ShapeDim]) -> CheckMessage {
        CheckMessage(checkCode: .reshapeCount, text: "cannot reshape \(from) to \(to.described): the number of elements differs")
    }
    static func conditionType(_ t: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .conditionType, text: "a condition must be a bool or a one-element tensor, not \(t)", label: t.description)
    }
    static func notOneToken(_ text: String, _ ids: [Int]) -> CheckMessage {
        CheckMessage(checkCode: .notOneToken, text: "`tok(\(ConstValue.str(text)))` is \(ids.count) tokens \(ids), not exactly one",
                     help: ids.isEmpty ? nil : "use `toks(...)` for several tokens")
    }
    static func loadFailed(_ detail: String) -> CheckMessage {
        CheckMessage(checkCode: .loadFailed, text: "cannot load: \(detail)")
    }
    static func fileNotAllowed(_ detail: String) -> CheckMessage {
        CheckMessage(checkCode: .fileNotAllowed, text: "`load` is not allowed here: \(detail)")
    }
    static func catShape(_ detail: String) -> CheckMessage {
        CheckMessage(checkCode: .catShape, text: detail)
    }
    static func paramType(_ name: String, expected: ValueType, got: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .paramType, text: "param `\(name)` is declared \(expected) but its default is \(got)", label: got.description)
    }
    static func runTimeList(_ t: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .notATensor, text: "a list of values computed at run time is used as one value (\(t))",
                     label: "a list", notes: ["only `cat` and `stack` take such a list"],
                     help: "`stack([...])` makes one tensor of equally shaped values, `cat([...], dim)` joins them along a dim; or save each")
    }
    static func raggedLiteral() -> CheckMessage {
        CheckMessage(checkCode: .raggedLiteral, text: "the rows of a tensor literal must have the same length")
    }
    static func notATensor(_ what: String, _ t: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .notATensor, text: "\(what) needs a tensor, not \(t)", label: t.description)
    }
    static func unknownFunction(_ name: String, suggestion: String?) -> CheckMessage {
        CheckMessage(checkCode: .unknownFunction, text: "there is no function `\(name)`",
                     help: suggestion.map { "did you mean `\($0)`?" })
    }
    static func operandType(_ op: String, _ a: ValueType, _ b: ValueType?) -> CheckMessage {
        CheckMessage(checkCode: .operandType, text: "`\(op)` cannot be applied to \(a)" + (b.map { " and \($0)" } ?? ""))
    }
    static func divisionByZero() -> CheckMessage {
        CheckMessage(checkCode: .divisionByZero, text: "division by zero in a compile-time integer expression")
    }
    static func unknownPoint(_ path: String, suggestion: String?) -> CheckMessage {
        CheckMessage(checkCode: .unknownPoint, text: "the model has no access point or module `\(path)`",
                     help: suggestion.map { "did you mean `\($0)`?" })
    }
    static func layerOutOfRange(_ index: Int, layers: Int) -> CheckMessage {
        CheckMessage(checkCode: .layerOutOfRange, text: "layer index \(index) is out of range",
                     label: "the model has \(layers) layers: 0..<\(layers)")
    }
    static func notCallable(_ path: String, why: String) -> CheckMessage {
        CheckMessage(checkCode: .notCallable, text: "`\(path)` cannot be called: \(why)",
                     notes: ["callable modules are pure functions of one tensor: embed, norms, mlp, the linear layers, lm_head (see `nsi signature`)"])
    }
    static func unknownModelAttribute(_ path: String, suggestion: String?) -> CheckMessage {
        CheckMessage(checkCode: .unknownModelAttribute, text: "`\(path)` is not an access point, module or constant of the model",
                     help: suggestion.map { "did you mean `\($0)`?" })
    }
    static func notSkippable(_ path: String) -> CheckMessage {
        CheckMessage(checkCode: .notSkippable, text: "`\(path)` is not a module that can be skipped",
                     notes: ["skippable: model.layers[i], model.layers[i].attn, model.layers[i].mlp"])
    }
    static func pointOutsideBlock() -> CheckMessage {
        CheckMessage(checkCode: .pointOutsideBlock, text: "access points can only be used inside a trace with a prompt, an invoke or a generate",
                     help: "move this into an `invoke` block")
    }
    static func pointInSkippedModule(_ point: String, module: String) -> CheckMessage {
        CheckMessage(checkCode: .pointInSkippedModule, text: "`\(point)` is not computed: `\(module)` is skipped in this pass")
    }
    static func usedBeforeComputed(value: String, target: String) -> CheckMessage {
        CheckMessage(checkCode: .usedBeforeComputed,
                     text: "a value computed from `\(value)` cannot be used at `\(target)`, which the model computes earlier",
                     label: "available only after \(value)")
    }
    static func laterInvokeValue(value: String, target: String) -> CheckMessage {
        CheckMessage(checkCode: .laterInvokeValue,
                     text: "a value from an earlier invoke's `\(value)` cannot be used at `\(target)`: the shared forward pass reaches `\(target)` first",
                     label: "available only after \(value)")
    }
    static func gradientBeforeBackward(_ point: String) -> CheckMessage {
        CheckMessage(checkCode: .gradientPlacement, text: "`\(point).grad` is used before this invoke's `backward`",
                     label: "no gradient yet",
                     help: "put `backward METRIC` earlier in the same invoke; the gradients of every point then follow it in any order")
    }
    static func gradientInGenerate() -> CheckMessage {
        CheckMessage(checkCode: .gradientPlacement, text: "gradients are available in traces only, not in a generate block",
                     help: "trace the generated text in a block of its own and take the gradient there")
    }
    static func duplicateBackward() -> CheckMessage {
        CheckMessage(checkCode: .duplicateBackward, text: "this invoke already has a `backward`",
                     notes: ["one reverse pass per invoke: sum the metrics into one scalar, or put each in an invoke of its own"])
    }
    static func backwardShape(_ type: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .backwardShape, text: "`backward` needs an f32 scalar, not \(type)",
                     label: "\(type)", help: "reduce it to one number first, e.g. `.sum()` or `.mean()`")
    }
    static func backwardOfConstant() -> CheckMessage {
        CheckMessage(checkCode: .backwardShape, text: "`backward` of a value that does not depend on the model in this pass",
                     label: "computed from no access point", help: "take the backward of a metric computed from the model, e.g. a logit difference")
    }
    static func writeAfterSkip(_ point: String, module: String) -> CheckMessage {
        CheckMessage(checkCode: .writeAfterSkip, text: "cannot write `\(point)`: `\(module)` is skipped in this pass")
    }
    static func unknownParam(_ name: String, suggestion: String?) -> CheckMessage {
        CheckMessage(checkCode: .unknownParam, text: "the script declares no param `\(name)`",
                     help: suggestion.map { "did you mean `\($0)`?" })
    }
    static func paramValue(_ name: String, _ value: String, _ type: ValueType) -> CheckMessage {
        CheckMessage(checkCode: .paramValue, text: "value `\(value)` for param `\(name)` is not a valid \(type)")
    }
    static func paramMissing(_ name: String) -> CheckMessage {
        CheckMessage(checkCode: .paramMissing, text: "param `\(name)` has no default; give it with `--param \(name)=...`")
    }
}
