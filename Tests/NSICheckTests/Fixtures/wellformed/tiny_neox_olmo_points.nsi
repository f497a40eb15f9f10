# model: tiny-gpt-neox
# GPT-NeoX's module names: the fused per-head projection, the MLP's dense layers and the
# untied head embed_out.
trace "hello" {
    save qkv = model.gpt_neox.layers[1].attention.query_key_value.output[0, -1]
    model.gpt_neox.layers[2].mlp.dense_4h_to_h.input[:, -1] *= 0.0
    save mid = model.layers[2].resid_mid[0, -1]
    save top = model.embed_out.output[0, -1].topk(3)
}
