# Parts of a `let` value can be edited; params, whole names, edits under a run-time
# condition, integer-tensor indices and values of another type cannot.
param alpha: float = 1.0
let ids = [[5, 6, 7]]
ids[0, 1] = 2.5                                  # expect: E0310 @ 5:13
trace "The capital of France is" {
    let h = model.layers[3].output[0]
    let m = h.mean(0)
    m[0:4] = 0
    m = 0                                        # expect: E0210 @ 10:5
    alpha[0] = 2                                 # expect: E0210 @ 11:5
    if h.sum() > 0 {
        m[0] = 1                                 # expect: E0210 @ 13:9
    }
    m[[1, 2]] = 0                                # expect: E0311 @ 15:6
    m[0:4] = zeros(5)                            # expect: E0301 @ 16:14
    h[:, 0] = 0                                  # expect: W0218 @ 17:5
    save m = m
}
