# `else` must follow an `if` block.
trace "prompt" {
    let a = 1
    else { let b = 2 }
# expect: E0117 @ 4:5
    if a == 1 { let c = 1 }
    let d = 2
    else if a == 2 { let e = 3 }
# expect: E0117 @ 8:5
}
