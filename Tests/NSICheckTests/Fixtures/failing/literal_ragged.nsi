trace "The capital of France is" {
    model.layers[1].output[0, -1, :2] = [[1.0, 2.0], [3.0]]    # expect: E0318 @ 2:41
}
