# attention_pattern.nsi — one head's queries, keys, values, scores, pattern and output on one prompt
param prompt: str = "When John and Mary went to the store, Mary gave a drink to"
trace prompt {
    save q = model.layers[3].attn.q[0, :, 2]            # f32[T, head_dim], after RoPE
    save k = model.layers[3].attn.k[0, :, 0]            # kv head 0 serves heads 0, 1, 2
    save v = model.layers[3].attn.v[0, :, 0]
    save scores = model.layers[3].attn.scores[0, 2]     # f32[T, S]: pre-softmax, masked
    save pattern = model.layers[3].attn.pattern[0, 2]   # f32[T, S]: each row sums to 1
    save z = model.layers[3].attn.z[0, :, 2]            # pattern @ v
}
