# Operands left out.
trace "prompt" {
    let a =
# expect: E0102 @ 3:12
    let b = 1 +
# expect: E0102 @ 5:16
    let c = (1 + )
# expect: E0102 @ 7:18
    save d = * 3
# expect: E0102 @ 9:14
    let e = f(,)
# expect: E0102 @ 11:15
}
generate (max_tokens = 1) {
# expect: E0101 @ 14:22
}
