trace "The capital of France is" {
    let p = model.logits[0, -1].softmax(-1)
    model.layers[29].mlp.output[0, -1, 0] += p[0]      # expect: E0501 @ 3:46
}
