# Comparisons do not chain.
trace "prompt" {
    let a = x < y < z
# expect: E0112 @ 3:19
    let b = x == y != z
# expect: E0112 @ 5:20
    let c = (x < y) < z
    let d = x < y and y < z
}
