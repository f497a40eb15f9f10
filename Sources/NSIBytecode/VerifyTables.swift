import NSIIR
import NSITensor

/// The verifier: every check a plan must pass before anything uses it. It never trusts a
/// number it has not bounded; each failure is its own `BytecodeError`. Pools and tables
/// first (so code checks may index them), then each instruction in order.
final class Verifier {
    let plan: Plan
    let target: PlanTarget
    let limits: BytecodeLimits
    /// Elements of each value and type pool entry with its lists written out, capped just
    /// above the limit; and the running total over every use.
    var valueSize: [Int] = []
    var typeSize: [Int] = []
    var expanded = 0
    var tensorUses = 0

    init(plan: Plan, target: PlanTarget, limits: BytecodeLimits) {
        self.plan = plan
        self.target = target
        self.limits = limits
    }

    func verify() throws(BytecodeError) {
        guard Container.isHash(Array(plan.signatureHash.utf8)) else { throw .malformedSignatureHash(plan.signatureHash) }
        if let model = target.signatureHash, model != plan.signatureHash {
            throw .signatureMismatch(plan: plan.signatureHash, model: model)
        }
        try checkPools()
        try checkParams()
        try checkSaves()
        try checkBlocks()
        guard plan.spans.count == plan.code.count else {
            throw .lineTableMismatch(spans: plan.spans.count, instructions: plan.code.count)
        }
        for (i, s) in plan.spans.enumerated() { try checkSpan(s, "instruction %\(i)") }
        try CodeVerifier(verifier: self).verify()
    }

    // MARK: Pools

    func checkPools() throws(BytecodeError) {
        for (i, t) in plan.tensors.enumerated() {
            var count = 1
            for d in t.shape {
                guard d >= 0 && d <= limits.maxDimension else { throw .badTensor(index: i, detail: "dimension \(d) is out of bounds") }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .badTensor(index: i, detail: "its shape overflows") }
                count = product
            }
            guard count == t.data.count else {
                throw .badTensor(index: i, detail: "shape \(t.shape) needs \(count) elements, the data has \(t.data.count)")
            }
        }
        let cap = limits.maxExpandedElements + 1
        var depth: [Int] = []
        depth.reserveCapacity(plan.values.count)
        for (i, v) in plan.values.enumerated() {
            var d = 1
            var size = 1
            switch v {
            case .int(let k): try poolIndex(k, plan.ints.count, "value K[\(i)]")
            case .float(let k): try poolIndex(k, plan.floats.count, "value K[\(i)]")
            case .bool: break
            case .str(let k): try poolIndex(k, plan.strings.count, "value K[\(i)]")
            case .list(let items):
                for c in items {
                    try poolIndex(c, i, "list value K[\(i)]")
                    d = max(d, depth[c] + 1)
                    size = min(size + valueSize[c], cap)
                }
            }
            guard d <= limits.maxNesting else { throw .nestingTooDeep(what: "value lists", limit: limits.maxNesting) }
            depth.append(d)
            valueSize.append(size)
        }
        depth = []
        for (i, t) in plan.types.enumerated() {
            var d = 1
            var size = 1
            switch t {
            case .int, .float, .bool, .str: break
            case .tensor(_, let dims), .topk(let dims):
                try checkDims(dims, "type \(i)") { detail throws(BytecodeError) in throw .badType(index: i, detail: detail) }
            case .strings(let n):
                guard n <= limits.maxRows else { throw .badType(index: i, detail: "str[\(n)] has more rows than \(limits.maxRows)") }
            case .list(let items):
                for c in items {
                    try poolIndex(c, i, "list type \(i)")
                    d = max(d, depth[c] + 1)
                    size = min(size + typeSize[c], cap)
                }
            }
            guard d <= limits.maxNesting else { throw .nestingTooDeep(what: "list types", limit: limits.maxNesting) }
            depth.append(d)
            typeSize.append(size)
        }
    }

    /// Counts one use of a value or type pool entry (the raised program holds a copy).
    func expand(value: Int? = nil, type: Int? = nil, tensor: Int? = nil) throws(BytecodeError) {
        if let v = value { expanded += valueSize[v] }
        if let t = type { expanded += typeSize[t] }
        guard expanded <= limits.maxExpandedElements else { throw .expansionTooLarge(limit: limits.maxExpandedElements) }
        if let t = tensor { tensorUses += plan.tensors[t].data.count }
        guard tensorUses <= limits.maxTensorElementUses else { throw .expansionTooLarge(limit: limits.maxTensorElementUses) }
    }

    func poolIndex(_ index: Int, _ count: Int, _ what: @autoclosure () -> String) throws(BytecodeError) {
        guard index >= 0 && index < count else { throw .poolReference(what: what(), index: index, count: count) }
    }

    /// Known dimensions are in 0...maxDimension; symbols name strings.
    func checkDims(_ dims: [PlanDim], _ what: @autoclosure () -> String, _ fail: (String) throws(BytecodeError) -> Void) throws(BytecodeError) {
        for d in dims {
            switch d {
            case .known(let n):
                if n < 0 || n > limits.maxDimension { try fail("dimension \(n) is out of bounds") }
            case .symbol(let s):
                try poolIndex(s, plan.strings.count, "a symbolic dimension of \(what())")
            }
        }
    }

    // MARK: Tables

    func checkSpan(_ s: SourceSpan, _ what: @autoclosure () -> String) throws(BytecodeError) {
        let bound = limits.maxDimension
        guard s.start >= 0, s.end >= s.start, s.line >= 0, s.column >= 0,
              s.end <= bound, s.line <= bound, s.column <= bound else { throw .badSpan(what: what()) }
    }

    func checkParams() throws(BytecodeError) {
        var seen = Set<String>()
        for p in plan.params {
            try poolIndex(p.name, plan.strings.count, "a param's name")
            let name = plan.strings[p.name]
            guard seen.insert(name).inserted else { throw .duplicateName(what: "param", name: name) }
            try poolIndex(p.type, plan.types.count, "param \(name)'s type")
            try expand(type: p.type)
            let type = plan.types[p.type]
            let compileTime = type == .int || type == .bool
            guard (p.binding == .compileTime) == compileTime else {
                throw .badParam(name: name, detail: "a \(plan.describe(type)) param is bound at \(compileTime ? "compile" : "run") time, not \(p.binding.rawValue)")
            }
            if let v = p.value {
                try poolIndex(v, plan.values.count, "param \(name)'s default")
                try expand(value: v)
                let fits: Bool
                switch (plan.values[v], type) {
                case (.int, .int), (.float, .float), (.bool, .bool), (.str, .str): fits = true
                default: fits = false
                }
                guard fits else { throw .badParam(name: name, detail: "its default does not fit its type \(plan.describe(type))") }
            }
            if let t = p.tensor {
                try poolIndex(t, plan.tensors.count, "param \(name)'s tensor default")
                try expand(tensor: t)
                guard case .tensor(_, let dims) = type, dims.count == plan.tensors[t].shape.count,
                      zip(dims, plan.tensors[t].shape).allSatisfy({ if case .known(let n) = $0.0 { return n == $0.1 }; return true }) else {
                    throw .badParam(name: name, detail: "its tensor default does not fit its type \(plan.describe(type))")
                }
            }
            if p.value != nil && p.tensor != nil { throw .badParam(name: name, detail: "it has two defaults") }
            if p.binding == .compileTime && p.value == nil { throw .badParam(name: name, detail: "a compile-time param has no value") }
            if case .tensor(let d, _) = type, d != .f32 && d != .i32 && d != .i64 { throw .badParam(name: name, detail: "a tensor param is f32, i32 or i64") }
            try checkSpan(p.span, "param \(name)")
        }
    }

    func checkSaves() throws(BytecodeError) {
        var seen = Set<String>()
        for s in plan.saves {
            try poolIndex(s.key, plan.strings.count, "a save's key")
            let key = plan.strings[s.key]
            guard seen.insert(key).inserted else { throw .duplicateName(what: "save", name: key) }
            try poolIndex(s.type, plan.types.count, "save \(key)'s type")
            try expand(type: s.type)
            try checkSpan(s.span, "save \(key)")
        }
    }

    func checkBlocks() throws(BytecodeError) {
        var rows = 0
        for (b, block) in plan.blocks.enumerated() {
            if case .generate(let maxTokens, let temperature, let topK, let topP, _) = block.kind {
                guard maxTokens >= 1 && maxTokens <= limits.maxDimension else { throw .badBlock(block: b, detail: "max_tokens \(maxTokens) is out of bounds") }
                let t = Double(bitPattern: temperature)
                guard t.isFinite && t >= 0 else { throw .badBlock(block: b, detail: "temperature \(t) is not a finite non-negative number") }
                if let k = topK, k < 1 || k > limits.maxDimension { throw .badBlock(block: b, detail: "top_k \(k) is out of bounds") }
                if let bits = topP {
                    let p = Double(bitPattern: bits)
                    guard p > 0 && p <= 1 else { throw .badBlock(block: b, detail: "top_p \(p) is not in (0, 1]") }
                }
            }
            guard !block.invokes.isEmpty else { throw .badBlock(block: b, detail: "it has no invokes") }
            try checkSpan(block.span, "block \(b)")
            for (k, inv) in block.invokes.enumerated() {
                switch (inv.prompts, inv.promptParam) {
                case (let prompts?, nil):
                    for p in prompts { try poolIndex(p, plan.strings.count, "a prompt of block \(b) invoke \(k)") }
                    guard inv.rows == prompts.count, !prompts.isEmpty else {
                        throw .badBlock(block: b, detail: "invoke \(k) has \(inv.rows) rows for \(prompts.count) prompts")
                    }
                case (nil, let param?):
                    try poolIndex(param, plan.strings.count, "the prompt param of block \(b) invoke \(k)")
                    let name = plan.strings[param]
                    guard let info = plan.params.first(where: { plan.strings[$0.name] == name }), plan.types[info.type] == .str else {
                        throw .badBlock(block: b, detail: "invoke \(k)'s prompt param \(name) is not a str param")
                    }
                    guard inv.rows == 1 else { throw .badBlock(block: b, detail: "invoke \(k) has \(inv.rows) rows for one prompt param") }
                case (nil, nil):
                    break   // a prompt instruction names it (checked with the code)
                default:
                    throw .badBlock(block: b, detail: "invoke \(k) has both prompts and a prompt param")
                }
                rows += inv.rows
                guard rows <= limits.maxRows else { throw .limitExceeded(what: "rows", value: rows, limit: limits.maxRows, offset: 0) }
                try checkSpan(inv.span, "block \(b) invoke \(k)")
            }
        }
    }
}

extension PlanType {
    /// The rank of a number or tensor; nil for strings, topk pairs and lists.
    var rank: Int? {
        switch self {
        case .int, .float, .bool: return 0
        case .tensor(_, let dims): return dims.count
        default: return nil
        }
    }

    var isNumeric: Bool { rank != nil }

    var dims: [PlanDim]? {
        switch self {
        case .int, .float, .bool: return []
        case .tensor(_, let d): return d
        default: return nil
        }
    }

    /// The element type a number or tensor computes in.
    var elementType: DType? {
        switch self {
        case .int: return .i64
        case .float: return .f32
        case .bool: return .bool
        case .tensor(let d, _): return d
        default: return nil
        }
    }

    var isIntegral: Bool {
        switch self {
        case .int: return true
        case .tensor(let d, _): return d == .i32 || d == .i64
        default: return false
        }
    }
}
