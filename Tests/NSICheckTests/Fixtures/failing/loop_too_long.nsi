trace "The capital of France is" {
    for i in 0..<200000 {                  # expect: E0214 @ 2:14
        let x = i
    }
    # Counted before the values are made: this range is refused at once.
    for j in 0..<1000000000000 {           # expect: E0214 @ 6:14
        let y = j
    }
}
