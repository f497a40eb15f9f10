# A keyword argument or option given twice.
generate "prompt" (max_tokens = 3, max_tokens = 4) {
# expect: E0114 @ 2:36
    let a = h.sum(dim = 1, dim = 2)
# expect: E0114 @ 4:28
}
