# Lexical errors do not cause syntax errors at the same place.
trace "prompt" {
    let a = $
# expect: E0006 @ 3:13
    let b = "unterminated
# expect: E0001 @ 5:13
    let c = 1 +
# expect: E0102 @ 7:16
    let d = 0x10 + 'x'
# expect: E0004 @ 9:13
# expect: E0008 @ 9:20
}
