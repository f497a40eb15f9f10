trace "The capital of France is" {
    save r = model.layers[1].output[0, -1].reshape(5, 100)    # expect: E0312 @ 2:14
}
