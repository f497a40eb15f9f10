trace "The capital of France is" {
    save z = zero(3, 4)                                # expect: E0320 @ 2:14
    save w = frobnicate(model.logits)                  # expect: E0320 @ 3:14
}
