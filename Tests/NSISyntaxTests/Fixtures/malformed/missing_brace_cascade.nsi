# A header with no `{` at all: the body is read as statements of the enclosing
# block, so its `}` closes that block and the last `}` is unmatched.
trace "prompt" {
    for l in 0..<3
# expect: E0101 @ 4:19
        let a = l
    }
}
# expect: E0105 @ 8:1
