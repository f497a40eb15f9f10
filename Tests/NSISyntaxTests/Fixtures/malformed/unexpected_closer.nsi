# Closing delimiters with nothing to close.
}
# expect: E0105 @ 2:1
trace "prompt" {
    ) let a = 1
# expect: E0105 @ 5:5
    let b = 1)
# expect: E0105 @ 7:14
    let c = [1]]
# expect: E0105 @ 9:16
}
