trace "The capital of France is" {
    for l in [1, 2, 1] {
        save resid[l] = model.layers[l].output    # expect: E0207 @ 3:14
    }
}
