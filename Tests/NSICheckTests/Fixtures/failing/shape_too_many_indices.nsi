trace "The capital of France is" {
    save x = model.layers[2].output[0, 0, 0, 0]        # expect: E0304 @ 2:14
}
