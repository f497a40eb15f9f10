# induction_heads.nsi — find induction heads: a random token sequence repeated twice, given as token ids
# On the second copy, an induction head at position t attends to the token after the first
# occurrence of token t, position t - 19: the diagonal of the pattern's lower-left block.
let r = randint(1000, 10000, [1, 20], seed = 7)       # i64[1, 20]: the same tokens on every machine
trace cat([r, r], dim = 1) {                            # a prompt of 40 token ids
    for l in 0..<model.num_layers {
        let block = model.layers[l].attn.pattern[0, :, 20:40, 1:21]   # f32[heads, 20, 20]: queries 20..<40, keys 1..<21
        save score[l] = diagonal(block).mean(-1)                       # its diagonal, averaged: f32[heads]
    }
    let logp = model.logits[0].log_softmax(-1)          # f32[40, vocab]
    save first_copy = logp[19, r[0, 0]]                 # log-probability of the second copy's first token (not yet predictable)
    save second_copy = logp[38, r[0, 19]]               # of its last token, predictable by induction
}
