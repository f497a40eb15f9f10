trace "The capital of France is" {
    skip model.layers[5].mlp
    model.layers[5].mlp.act[:, :, 0] = 0               # expect: E0503 @ 3:5
    model.layers[5].mlp.output[:] = 0
}
