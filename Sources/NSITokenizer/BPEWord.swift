/// Applies BPE merges to one word: repeatedly joins the adjacent pair with the lowest
/// rank, leftmost first on ties, until no adjacent pair has a merge. Symbols live in a
/// linked list over arrays and candidate pairs in a min-heap, so a word of n symbols
/// costs O(n log n) rather than rescanning all pairs after every merge.
enum BPEWord {
    private struct Candidate {
        let rank: Int32
        let position: Int32
        /// The pair's two ids when it was queued; a stale entry no longer matches.
        let left: Int32
        let right: Int32
        let result: Int32

        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    /// The ids after merging `symbols` (initial one-byte tokens).
    static func merge(_ symbols: [Int32], merges: MergeTable) -> [Int] {
        let n = symbols.count
        if n < 2 { return symbols.map(Int.init) }
        var ids = symbols
        var next = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i + 1) }
            count = n
        }
        next[n - 1] = -1
        var prev = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i - 1) }
            count = n
        }
        var alive = [Bool](repeating: true, count: n)

        var heap: [Candidate] = []
        heap.reserveCapacity(n)
        for i in 0..<(n - 1) {
            if let m = merges.merge(ids[i], ids[i + 1]) {
                push(Candidate(rank: m.rank, position: Int32(i), left: ids[i], right: ids[i + 1], result: m.result), &heap)
            }
        }

        while let top = pop(&heap) {
            let pos = Int(top.position)
            guard alive[pos], ids[pos] == top.left else { continue }
            let rightPos = Int(next[pos])
            guard rightPos >= 0, ids[rightPos] == top.right else { continue }
            ids[pos] = top.result
            alive[rightPos] = false
            let after = next[rightPos]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }

            let before = prev[pos]
            if before >= 0, let left = merges.merge(ids[Int(before)], ids[pos]) {
                push(Candidate(rank: left.rank, position: before, left: ids[Int(before)], right: ids[pos], result: left.result), &heap)
            }
            if after >= 0, let right = merges.merge(ids[pos], ids[Int(after)]) {
                push(Candidate(rank: right.rank, position: Int32(pos), left: ids[pos], right: ids[Int(after)], result: right.result), &heap)
            }
        }

        var out: [Int] = []
        var i: Int32 = 0
        while i >= 0 {
            out.append(Int(ids[Int(i)]))
            i = next[Int(i)]
        }
        return out
    }

    private static func push(_ c: Candidate, _ heap: inout [Candidate]) {
        heap.append(c)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private static func pop(_ heap: inout [Candidate]) -> Candidate? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var best = i
            if l < heap.count && heap[l].precedes(heap[best]) { best = l }
            if r < heap.count && heap[r].precedes(heap[best]) { best = r }
            if best == i { break }
            heap.swapAt(i, best)
            i = best
        }
        return top
    }
}
