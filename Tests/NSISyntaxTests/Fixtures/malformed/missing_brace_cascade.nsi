# A header with no `{` and no sign of where its body is: the block is missing, the
# following lines belong to the enclosing block, and the extra `}` is unmatched.
trace "prompt" {
    for l in 0..<3
# expect: E0101 @ 4:19
    let a = l
    }
}
# expect: E0105 @ 8:1
