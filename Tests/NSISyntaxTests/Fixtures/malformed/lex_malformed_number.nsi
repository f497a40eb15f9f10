# Digits run into letters: one malformed literal each.
trace "prompt" {
    let a = 12abc
# expect: E0004 @ 3:13
    let b = 0x1F
# expect: E0004 @ 5:13
    let c = 1e
# expect: E0004 @ 7:13
    let d = 2.5e+ 1
# expect: E0004 @ 9:13
}
