trace "The capital of France is" {
    save x = model.layers[2].output[1]                 # expect: E0303 @ 2:37
    save y = model.layers[2].output[0, 0, 576]         # expect: E0303 @ 3:43
}
