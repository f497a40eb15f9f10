# Only names and model points (and their elements) can be assigned.
trace "prompt" {
    model.layers[3].mlp(h) = 0
# expect: E0109 @ 3:5
    1 = 2
# expect: E0109 @ 5:5
    (model.layers[3].output) = 0
# expect: E0109 @ 7:5
    result.ids = 0
# expect: E0109 @ 9:5
    a + b += 1
# expect: E0109 @ 11:5
    model = 0
# expect: E0109 @ 13:5
}
