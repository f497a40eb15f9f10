let x = 3                          # expect: E0204 @ 1:1
trace "The capital of France is" {
    trace "nested" { }             # expect: E0204 @ 3:5
}
