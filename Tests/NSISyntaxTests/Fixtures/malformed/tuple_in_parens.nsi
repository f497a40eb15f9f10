# There are no tuples: a comma inside parentheses is reported once and skipped.
trace "prompt" {
    let a = (x, y)
# expect: E0101 @ 3:15
    let b = [k = 1]
# expect: E0101 @ 5:16
    let c = x : y
# expect: E0106 @ 7:15
}
