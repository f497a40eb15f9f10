save x = 3                         # expect: E0204 @ 1:1
model.layers[0].output = 0         # expect: E0204 @ 2:1
trace "The capital of France is" {
    trace "nested" { }             # expect: E0204 @ 4:5
}
