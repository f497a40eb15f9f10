trace "The capital of France is" {
    save a = model.layers[30].output                   # expect: E0402 @ 2:27
    save b = model.model.layers[-31].input             # expect: E0402 @ 3:33
    for l in 0..<31 {
        save c[l] = model.layers[l].output             # expect: E0402 @ 5:34
    }
}
