# Writing layer 3 from layer 8 of the same forward pass.
trace "The capital of France is" {
    let late = model.layers[8].output
    model.layers[3].output = late                      # expect: E0501 @ 4:30
}
