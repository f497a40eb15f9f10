# Tokens that cannot start a statement; each line is skipped.
trace "prompt" {
    , let a = 1
# expect: E0100 @ 3:5
    = 3
# expect: E0100 @ 5:5
    in x
# expect: E0100 @ 7:5
    * 2
# expect: E0100 @ 9:5
    let ok = 1
}
