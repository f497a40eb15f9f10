# A header whose `{` is missing where a body evidently follows (a next line indented
# deeper than the header, or statements and a `}` on the same line): the `{` is taken
# as present, so the rest parses as written and there is one error.
trace "prompt" {
    for l in 0..<3
# expect: E0101 @ 5:19
        let a = l
    }
    if a == 1 let b = 2 }
# expect: E0101 @ 9:15
    let c = 3
}
