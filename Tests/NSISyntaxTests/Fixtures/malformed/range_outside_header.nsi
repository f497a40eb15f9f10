# Ranges are only allowed in for and step headers.
trace "prompt" {
    let r = 0..<3
# expect: E0111 @ 3:13
    let s = f(0..<3)
# expect: E0111 @ 5:15
    for l in (0..<3) { let x = l }
# expect: E0111 @ 7:15
    for l in 0..<3 { let y = l }
}
