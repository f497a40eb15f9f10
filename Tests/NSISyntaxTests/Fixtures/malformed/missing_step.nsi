# `each` is always followed by `step`.
generate "prompt" (max_tokens = 3) {
    each {
# expect: E0101 @ 3:10
        model.layers[0].output *= 2
    }
    each tokens {
# expect: E0101 @ 7:10
        model.layers[0].output *= 2
    }
}
