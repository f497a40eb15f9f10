# Positional arguments must come before keyword arguments.
trace "prompt" {
    let a = h.sum(keepdim = true, 1)
# expect: E0113 @ 3:35
    let b = h.sum(1, keepdim = true)
}
