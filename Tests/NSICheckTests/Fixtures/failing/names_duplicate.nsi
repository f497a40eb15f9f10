trace "The capital of France is" {
    let h = model.layers[3].output
    let h = model.layers[4].output    # expect: E0202 @ 3:9
}
