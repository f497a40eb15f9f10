trace "The capital of France is" {
    for l in [3, 8, 12] { let c[l] = model.layers[l].output[:, -1] }
    save x = c[5]                  # expect: E0206 @ 3:14
}
