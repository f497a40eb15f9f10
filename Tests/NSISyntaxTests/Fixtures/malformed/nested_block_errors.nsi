# Errors at every depth are reported; the blocks around them still parse.
trace {
    invoke "clean" {
        for l in 0..<model.num_layers {
            let c[l] = model.layers[l].output[:, -1
# expect: E0104 @ 5:52
        }
    }
    for l in 0..<model.num_layers {
        invoke "corrupt" {
            if l > 3 {
                model.layers[l].output[:, -1] = c[l] +
# expect: E0102 @ 12:55
            } else {
                skip l
# expect: E0110 @ 15:22
            }
        }
    }
}
