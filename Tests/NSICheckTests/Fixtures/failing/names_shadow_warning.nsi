# Shadowing an outer name is a warning, not an error.
trace "The capital of France is" {
    let h = model.layers[3].output
    for l in [1, 2] {
        let h = model.layers[l].output    # expect: W0203 @ 5:13
    }
}
