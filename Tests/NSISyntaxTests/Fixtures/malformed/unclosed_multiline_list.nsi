# A list spread over lines without its `]`: the next statement is not swallowed.
trace {
    for l in [3,
              8,
              12
# expect: E0104 @ 5:17
    let x = 1
    invoke "p" { let y = 2 }
}
