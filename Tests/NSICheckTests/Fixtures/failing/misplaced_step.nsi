trace "The capital of France is" {
    step 1 {                       # expect: E0204 @ 2:5
        model.layers[3].output += 1
    }
    each step {                    # expect: E0204 @ 5:5
        model.layers[3].output += 1
    }
}
