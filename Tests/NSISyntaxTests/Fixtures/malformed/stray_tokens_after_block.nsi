# Junk after a block's `}` is skipped to the end of the line.
trace "prompt" {
    let a = 1
} extra junk
# expect: E0106 @ 4:3
trace "second" {
    let b = 2
}
