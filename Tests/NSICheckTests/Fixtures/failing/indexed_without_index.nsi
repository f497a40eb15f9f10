trace "The capital of France is" {
    for l in 0..<3 { let c[l] = model.layers[l].output }
    save all = c                   # expect: E0205 @ 3:16
}
