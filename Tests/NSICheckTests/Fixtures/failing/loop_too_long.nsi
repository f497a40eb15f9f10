trace "The capital of France is" {
    for i in 0..<200000 {                  # expect: E0214 @ 2:14
        let x = i
    }
}
