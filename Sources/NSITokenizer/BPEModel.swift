/// The BPE model over the byte-level alphabet: turns one pre-tokenized word into ids.
struct BPEModel: Sendable {
    /// Token string (byte-level spelling) to id.
    let vocab: [String: Int]
    let merges: MergeTable
    /// The id of each byte's one-character token, or -1 when the vocabulary lacks it.
    let byteIds: [Int32]
    /// Used for bytes without a token; without it such bytes are dropped, as in the reference.
    let unknownId: Int?
    /// Consecutive unknowns become one.
    let fuseUnknown: Bool
    /// A word that is itself in the vocabulary is emitted whole, without merging (Llama 3).
    let ignoreMerges: Bool

    let cache = WordCache(capacity: 50_000)
    /// Longer words are rare and would make the cache's memory unbounded.
    static let maxCachedWordLength = 256

    /// Appends the ids of `word`, given as its UTF-8 bytes.
    func encode(word: [UInt8], into ids: inout [Int]) {
        guard word.count <= BPEModel.maxCachedWordLength else {
            ids.append(contentsOf: encodeUncached(word))
            return
        }
        let key = WordCache.Key(bytes: word)
        if let cached = cache.lookup(key) {
            ids.append(contentsOf: cached)
            return
        }
        let result = encodeUncached(word)
        cache.store(key, result)
        ids.append(contentsOf: result)
    }

    private func encodeUncached(_ word: [UInt8]) -> [Int] {
        if ignoreMerges, let id = vocab[ByteLevelAlphabet.string(of: word)] {
            return [id]
        }
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var previousWasUnknown = false
        for byte in word {
            let id = byteIds[Int(byte)]
            if id >= 0 {
                symbols.append(id)
                previousWasUnknown = false
            } else if let unknownId {
                if !(fuseUnknown && previousWasUnknown) { symbols.append(Int32(unknownId)) }
                previousWasUnknown = true
            }
        }
        return BPEWord.merge(symbols, merges: merges)
    }
}
