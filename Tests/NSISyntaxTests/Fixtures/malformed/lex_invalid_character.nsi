# Characters outside the language; runs of them are one error.
trace "prompt" {
    let a = 1 $ 2
# expect: E0006 @ 3:15
    let b = a && b
# expect: E0006 @ 5:15
    if !a { let c = 1 }
# expect: E0006 @ 7:8
    let café = 1
# expect: E0006 @ 9:12
    for l in 0..3 { let d = l }
# expect: E0006 @ 11:15
    $name = 1
# expect: E0006 @ 13:5
    let e = 2
}
