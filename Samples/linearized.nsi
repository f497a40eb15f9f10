# linearized.nsi — the gradient of the name-mover metric in a linearized model
#
# Every attention pattern and every norm's per-position factor (attn_norm.scale,
# mlp_norm.scale, norm.scale) is replaced by its own detached value, as circuit tracers
# freeze them: the values are unchanged, and the gradient flows only through the
# residual stream, the values and the MLPs. Saved: the metric, each layer output's
# gradient at the last position, and input-times-gradient at the embeddings per token.
param prompt: str = "When John and Mary went to the store, John gave a drink to"
trace prompt {
    for l in 0..<model.num_layers {
        model.layers[l].attn_norm.scale = model.layers[l].attn_norm.scale.detach()
        model.layers[l].attn.pattern = model.layers[l].attn.pattern.detach()
        model.layers[l].mlp_norm.scale = model.layers[l].mlp_norm.scale.detach()
    }
    model.norm.scale = model.norm.scale.detach()
    let lg = model.logits[0, -1]
    let m = lg[tok(" Mary")] - lg[tok(" John")]
    backward m
    save metric = m
    save input_x_grad = (model.embed.output * model.embed.output.grad).sum(-1)[0]
    for l in 0..<model.num_layers {
        save grad[l] = model.layers[l].output.grad[0, -1]
    }
}
