generate "The capital of France is" (max_tokens = 4) {
    each step {
        save h = model.layers[3].output    # expect: E0213 @ 3:14
    }
}
