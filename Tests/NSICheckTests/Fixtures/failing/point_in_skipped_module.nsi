trace "The capital of France is" {
    skip model.layers[4]
    skip model.layers[6].attn
    save q = model.layers[4].attn.q                    # expect: E0407 @ 4:14
    save p = model.layers[6].attn.pattern              # expect: E0407 @ 5:14
    save o = model.layers[4].output
}
