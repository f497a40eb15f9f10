generate "The capital of France is" (max_tokens = 4) {
    step 1 {
        step 2 { }                 # expect: E0204 @ 3:9
    }
}
