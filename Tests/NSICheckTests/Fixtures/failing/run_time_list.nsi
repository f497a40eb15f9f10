# A list of values computed at run time is no value of its own: only cat and stack take it.
param p: str = "Hi"
param scale: float = 2.0
trace "The capital of France is" {
    let h = model.layers[1].output
    save pair = [h[0, 0, 0], h[0, 1, 0]]              # expect: E0319 @ 6:17
    save names = [p]                                  # expect: E0319 @ 7:18
    save scales = [scale, 1.0]                        # expect: E0319 @ 8:19
    save ok = stack([h[0, 0, 0], h[0, 1, 0]], 0)
}
