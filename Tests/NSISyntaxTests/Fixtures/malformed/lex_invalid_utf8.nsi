# Bytes that are not UTF-8, outside strings, in a string, in a comment: ÿ
# expect: E0007 @ 1:73
trace "prompt Ã(" {
# expect: E0007 @ 3:15
    let a = þþ
# expect: E0007 @ 5:13
    let b = 1
}
