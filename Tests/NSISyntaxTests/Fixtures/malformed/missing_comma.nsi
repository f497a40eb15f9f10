# A missing comma between items on one line is reported and supplied.
trace "prompt" {
    let a = f(1 2)
# expect: E0101 @ 3:17
    let b = [1.0 2.0, 3.0]
# expect: E0101 @ 5:18
    let c = model.layers[0].output[0 -1]
}
