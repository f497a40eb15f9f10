trace "The capital of France is" {
    skip model.norm                                    # expect: E0405 @ 2:10
    skip model.layers[3].attn.q                        # expect: E0405 @ 3:10
}
