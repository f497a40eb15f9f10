import NSIIR

/// Where each value lives while a plan runs, and when it is let go.
///
/// Copy elision: a point's tensor belongs to the forward pass, which goes on changing it
/// after its hook returns. A read whose value (and any view taken of it by indexing,
/// reshaping, transposing, squeezing or casting) is consumed by computations in the same
/// hook, with no write to that point in between, is a view: nothing is copied. A value
/// needed later (saved, written somewhere, or used at another point, step or invoke) is
/// copied, and where it is a slice of a view only that slice is copied.
///
/// Buffer reuse: each register is released after the instruction that reads it last, in
/// the order the VM runs them, so the memory a run holds is the largest live set rather
/// than the sum of everything it computes.
///
/// The plan is derived from the program alone (the VM derives it again from a verified
/// plan; it is not part of the bytecode, so a plan cannot claim a view it is not owed).
public struct MemoryPlan: Sendable {
    public enum Storage: Sendable, Equatable, CustomStringConvertible {
        /// No buffer of its own (scalars, strings, saves, writes, skips).
        case none
        /// Computes a new buffer, or views one that is already a register's own.
        case owned
        /// A view of the forward pass's tensor, used up within the hook.
        case view
        /// Copied out of the forward pass's tensor (the whole read, or only its slice).
        case copy

        public var description: String {
            switch self {
            case .none: return ""
            case .owned: return "owned"
            case .view: return "view"
            case .copy: return "copy"
            }
        }
    }

    public let storage: [Storage]
    /// For each instruction: the registers whose last use it is.
    public let releaseAfter: [[Int]]
    /// Registers never released (params, values of generate blocks that rerun each step).
    public let kept: [Bool]
    /// Instruction indices in the order the VM runs them.
    public let order: [Int]

    public var views: Int { storage.filter { $0 == .view }.count }
    public var copies: Int { storage.filter { $0 == .copy }.count }

    /// `elideCopies: false` copies every read, as the checker's program asks. A plan with
    /// `backward` copies every read too: its reverse pass keeps values a later write into
    /// the pass's tensor must not change.
    public init(_ program: Program, elideCopies requested: Bool = true) {
        let elideCopies = requested && !program.hasBackward
        let code = program.instructions
        let n = code.count
        func isGenerate(_ block: Int) -> Bool {
            guard block >= 0, block < program.blocks.count else { return false }
            if case .generate = program.blocks[block].kind { return true }
            return false
        }
        func phaseRank(_ p: Phase) -> Int {
            switch p {
            case .before: return 0
            case .point(let q): return 1 + q
            case .grad(let q): return (1 << 40) - q
            case .after: return Int.max
            }
        }
        func key(_ i: Int) -> (Int, Int, Int) { (code[i].anchor.block, phaseRank(code[i].anchor.phase), i) }
        let order = code.indices.sorted { key($0) < key($1) }
        var rank = Array(repeating: 0, count: n)
        for (r, i) in order.enumerated() { rank[i] = r }
        self.order = order

        var users = Array(repeating: [Int](), count: n)
        for (i, ins) in code.enumerated() {
            for v in ins.uses where v.index >= 0 && v.index < n { users[v.index].append(i) }
        }

        // Storage, in id order (operands come first).
        var storage = Array(repeating: Storage.none, count: n)
        for (i, ins) in code.enumerated() {
            guard let type = ins.type, Self.hasBuffer(type) else { continue }
            switch ins.op {
            case .readPoint where ins.anchor.phase.point != nil && ins.anchor.phase != .point(ins.anchor.phase.point!):
                storage[i] = .copy   // a gradient's rows
            case .readPoint(let point):
                storage[i] = elideCopies && Self.staysInHook(i, point: point, code: code, users: users) ? .view : .copy
            default:
                if let base = ins.op.aliasedOperand, storage[base.index] == .view {
                    // A view of a view: stays a view if it too is used up in the hook, else
                    // only this (smaller) value is copied.
                    storage[i] = users[i].allSatisfy({ Self.consumesInHook(code[$0], of: ins) }) ? .view : .copy
                } else {
                    storage[i] = .owned
                }
            }
        }
        self.storage = storage

        // Liveness, in run order.
        var last: [Int?] = code.indices.map { $0 }
        var kept = code.map { ins -> Bool in
            if case .param = ins.op { return true }
            return ins.type == nil || isGenerate(ins.anchor.block)
        }
        for (i, ins) in code.enumerated() {
            for v in ins.uses where v.index >= 0 && v.index < n {
                if isGenerate(ins.anchor.block) { kept[v.index] = true }
                if let l = last[v.index], rank[i] > rank[l] { last[v.index] = i }
            }
        }
        var release = Array(repeating: [Int](), count: n)
        for v in code.indices where !kept[v] {
            if let l = last[v] { release[l].append(v) }
        }
        releaseAfter = release
        self.kept = kept
    }

    static func hasBuffer(_ t: ValueType) -> Bool {
        switch t {
        case .tensor, .topk: return true
        default: return false
        }
    }

    /// Whether `user` is done with `value` before the hook returns: it runs in the same
    /// hook (same block, invoke, point and steps) and neither keeps nor writes the value.
    static func consumesInHook(_ user: Instruction, of value: Instruction) -> Bool {
        guard user.anchor.block == value.anchor.block, user.anchor.invoke == value.anchor.invoke,
              user.anchor.phase == value.anchor.phase, user.anchor.steps == value.anchor.steps else { return false }
        return !user.op.traits.keepsOperands
    }

    /// A read may be a view if every value derived from it by aliasing ops is used up in
    /// its hook (or copied there), and no write to the point runs before the last use.
    static func staysInHook(_ read: Int, point: Int, code: [Instruction], users: [[Int]]) -> Bool {
        var lastUse = read
        var stack = [read]
        var seen: Set<Int> = [read]
        while let v = stack.popLast() {
            for u in users[v] {
                guard consumesInHook(code[u], of: code[read]) else {
                    // The read itself must not escape; a view derived from it that does is
                    // copied where it is made, inside the hook.
                    if v == read { return false }
                    continue
                }
                lastUse = max(lastUse, u)
                if code[u].op.aliasedOperand?.index == v, seen.insert(u).inserted { stack.append(u) }
            }
        }
        for w in (read + 1)..<max(lastUse, read + 1) {
            if case .write(let p, _, _, _) = code[w].op, p == point, code[w].anchor.block == code[read].anchor.block,
               code[w].anchor.phase == code[read].anchor.phase {
                return false
            }
        }
        return true
    }

    // MARK: Sizes

    /// Bytes a value of this type holds, with each symbol's size from `symbols` (an
    /// unknown symbol counts as 1 and makes the estimate a lower bound); past Int.max,
    /// Int.max.
    public static func bytes(_ type: ValueType?, symbols: [String: Int]) -> (bytes: Int, exact: Bool) {
        func count(_ shape: [ShapeDim], _ size: Int) -> (Int, Bool) {
            var factors = [size], exact = true
            for d in shape {
                switch d {
                case .known(let k): factors.append(k)
                case .symbol(let s):
                    if let k = symbols[s] { factors.append(k) } else { exact = false }
                }
            }
            return (Saturating.product(factors), exact)
        }
        switch type {
        case .tensor(let d, let s)?: return count(s, d.size)
        case .topk(let s)?: return count(s, 12)
        default: return (0, true)
        }
    }

    /// The most bytes of registers held at once, and the sum without any release; views
    /// count nothing. `symbols(block)` gives the sizes of T, S and L for each block.
    public func peak(_ program: Program, symbols: (Int) -> [String: Int]) -> (peak: Int, total: Int, at: Int?, exact: Bool) {
        var live = 0, peak = 0, total = 0, at: Int?
        var exact = true
        var held = Array(repeating: 0, count: program.instructions.count)
        for i in order {
            let ins = program.instructions[i]
            if storage[i] == .owned || storage[i] == .copy {
                let (b, e) = Self.bytes(ins.type, symbols: ins.anchor.block >= 0 ? symbols(ins.anchor.block) : [:])
                exact = exact && e
                held[i] = b
                live = Saturating.add(live, b)
                total = Saturating.add(total, b)
                if live > peak { peak = live; at = i }
            }
            for r in releaseAfter[i] {
                live -= held[r]
                held[r] = 0
            }
        }
        return (peak, total, at, exact)
    }
}
