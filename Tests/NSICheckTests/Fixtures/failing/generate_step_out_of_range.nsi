generate "The capital of France is" (max_tokens = 4) {
    step 4 { model.layers[3].output += 1 }             # expect: E0204 @ 2:10
    step 2..<9 { model.layers[3].output += 1 }         # expect: E0204 @ 3:10
}
