# A string that runs to the end of its line; the next line still parses.
trace "prompt" {
    save s = "abc
# expect: E0001 @ 3:14
    let ok = 1
    save t = "ends with a backslash\
# expect: E0001 @ 6:14
}
