# model: tiny-gemma2
# Gemma 2's extra points: the norms after attention and the MLP, and the soft-capped
# logits (named model.logits only); its Hugging Face names for the same points.
trace "hello" {
    let post = model.layers[0].attn_post_norm.output
    save same = (post - model.model.layers[0].post_attention_layernorm.output).abs().max()
    model.layers[1].mlp_post_norm.output[:, -1] *= 0.5
    save pre = model.model.layers[2].pre_feedforward_layernorm.output[0, -1]
    save capped = model.logits[0, -1].max()
    save normed = model.layers[2].attn_post_norm(model.layers[1].output[0, -1])
}
