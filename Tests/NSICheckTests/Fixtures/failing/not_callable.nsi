trace "The capital of France is" {
    let h = model.layers[2].output
    save a = model.layers[3].attn(h)                   # expect: E0403 @ 3:14
    save b = model.layers[3](h)                        # expect: E0403 @ 4:14
}
