trace "The capital of France is" {
    let c = model.layers[1].output
    for l in 0..<2 {
        let c[l] = model.layers[l].output   # expect: E0205 @ 4:13
    }
}
