trace "The capital of France is" {
    let best = model.layers[4].output.argmax(dim = -1)
    model.layers[5].output[:, :, 0] = best             # expect: E0310 @ 3:39
    model.layers[6].output = true                      # expect: E0310 @ 4:30
}
