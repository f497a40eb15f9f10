# A header whose `{` comes after junk on the same line: the junk is reported, the
# block is found and parsed.
trace "prompt" {
    if pos == 1) {
# expect: E0101 @ 4:16
        let a = 1
    }
    for l in [1, 2] do {
# expect: E0101 @ 8:21
        let b = l
    }
}
