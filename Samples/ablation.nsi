# ablation.nsi — zero one MLP, one attention head; read an attention pattern
trace "The Eiffel Tower is located in the city of" {
    model.layers[3].mlp.output = 0
    model.layers[7].attn.z[:, :, 3] = 0
    save pattern = model.layers[5].attn.pattern[0]
    save logits = model.logits[0, -1]
}
