trace "The capital of France is" {
    let h = model.layers[3].output
    h = 0                                  # expect: E0210 @ 3:5
}
