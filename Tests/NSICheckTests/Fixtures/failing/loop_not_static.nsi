param scale: float = 2.0
trace "The capital of France is" {
    for l in 0..<scale {                   # expect: E0208 @ 3:14
        save x[l] = model.layers[l].output
    }
}
