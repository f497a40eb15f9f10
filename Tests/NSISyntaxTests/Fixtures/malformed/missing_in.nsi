# A for loop without `in`; the header still parses.
trace "prompt" {
    for l 0..<model.num_layers {
# expect: E0101 @ 3:11
        save h[l] = model.layers[l].output
    }
}
