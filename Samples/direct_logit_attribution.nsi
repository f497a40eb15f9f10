# direct_logit_attribution.nsi — how much the embedding and each layer's attention and MLP write toward " Paris"
# The final RMSNorm is linear once its 1/rms is fixed, so the logit is the sum of each
# residual-stream term's dot product with the unembedding direction scaled by the norm's weight.
trace "The Eiffel Tower is located in the city of" {
    let direction = model.lm_head.weight[tok(" Paris")] * model.norm.weight   # f32[576], read from the checkpoint
    let scale = model.norm.scale[0, -1, 0]                                     # the final norm's 1/rms at the last token
    save embed = (model.embed.output[0, -1] * direction).sum() * scale
    for l in 0..<model.num_layers {
        save attn[l] = (model.layers[l].attn.output[0, -1] * direction).sum() * scale
        save mlp[l] = (model.layers[l].mlp.output[0, -1] * direction).sum() * scale
    }
    save logit = model.logits[0, -1, tok(" Paris")]
}
