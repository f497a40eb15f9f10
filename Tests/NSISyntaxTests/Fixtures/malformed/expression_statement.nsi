# Expressions whose value would be dropped.
trace "prompt" {
    model.layers[3].output
# expect: E0108 @ 3:5
    h
# expect: E0108 @ 5:5
    model.layers[3].mlp(h)
# expect: E0108 @ 7:5
    model.layers[0].output == 0
# expect: E0108 @ 9:5
    ...
}
