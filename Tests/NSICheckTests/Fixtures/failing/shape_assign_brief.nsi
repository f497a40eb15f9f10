# The brief's example: a 10-wide slice written into a 576-wide row.
trace "When John and Mary went to the store" {
    let clean = model.layers[8].output
}
trace "When John and Mary went to the store" {
    model.layers[8].output[:, -1] = clean[:, -1, :10]    # expect: E0301 @ 6:37
}
