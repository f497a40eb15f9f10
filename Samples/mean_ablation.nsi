# mean_ablation.nsi — mean-ablate one attention head (layer 5, head 4) over a batch of four prompts
param layer: int = 5
param head: int = 4
# Four prompts of the same length (10 tokens), so the batch has no padding.
trace ["The Eiffel Tower is located in the city of", "The Colosseum is located in the city of", "The Brandenburg Gate is located in the city of", "The Statue of Liberty is located in the city of"] {
    let z_mean = model.layers[layer].attn.z[:, :, head].mean(0).mean(0)   # f32[head_dim]: over the batch, then the positions
    save head_mean = z_mean
    save before = model.logits[:, -1].topk(5)
    save paris_before = model.logits[:, -1, tok(" Paris")]
}
trace ["The Eiffel Tower is located in the city of", "The Colosseum is located in the city of", "The Brandenburg Gate is located in the city of", "The Statue of Liberty is located in the city of"] {
    model.layers[layer].attn.z[:, :, head] = z_mean                          # every row, every position
    save after = model.logits[:, -1].topk(5)
    save paris_after = model.logits[:, -1, tok(" Paris")]
}
