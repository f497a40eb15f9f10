trace "The capital of France is" {
    for v in model.layers[0].output {     # expect: E0208 @ 2:14
    }
}
