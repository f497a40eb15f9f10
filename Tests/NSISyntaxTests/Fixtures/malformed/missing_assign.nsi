# let and save need `=`.
trace "prompt" {
    let x 3
# expect: E0101 @ 3:11
    save y
# expect: E0101 @ 5:11
    let z += 1
# expect: E0101 @ 7:11
}
