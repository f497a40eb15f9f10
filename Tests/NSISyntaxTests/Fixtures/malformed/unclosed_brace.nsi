# Blocks still open at the end of the file: one error, at the end.
trace "prompt" {
    for l in 0..<3 {
        if l == 1 {
            let a = l
# expect: E0104 @ 5:22
