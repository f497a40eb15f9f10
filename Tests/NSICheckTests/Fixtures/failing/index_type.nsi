trace "The capital of France is" {
    save a = model.logits[0, 1.5]                      # expect: E0311 @ 2:30
    save b = model.logits[0, "x"]                      # expect: E0311 @ 3:30
}
trace "The capital of France is" {
    # A mask has the shape of the dimensions it covers; writes take no masks.
    let h = model.layers[3].output[0]
    save c = h[h.norm(0) > 1]                           # expect: E0311 @ 8:16
    model.layers[3].output[0, h.norm(-1) > 5] = 0      # expect: E0311 @ 9:27
}
