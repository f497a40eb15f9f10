trace "The capital of France is" {
    for l in 0..<(30 % 0) { }                          # expect: E0322 @ 2:19
}
