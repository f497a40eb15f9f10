# An error in a header does not hide errors in the body, nor cause more.
trace "prompt" {
    for l in 0..< {
# expect: E0102 @ 3:19
        let a = l
        let b = (l
# expect: E0104 @ 6:19
    }
    if {
# expect: E0102 @ 9:8
        let c = 1
    }
}
