# Unknown escapes: each is reported, the string goes on.
trace "prompt" {
    let a = tok("a\qb")
# expect: E0002 @ 3:19
    let b = toks("x\x41 and \'")
# expect: E0002 @ 5:20
# expect: E0002 @ 5:29
}
