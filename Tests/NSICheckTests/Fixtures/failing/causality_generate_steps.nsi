# Step 0 values are there for later steps, but not earlier in step 0's own pass.
generate "The capital of France is" (max_tokens = 4) {
    let h = model.layers[10].output[:, -1]
    each step { model.layers[2].output[:, -1] += h }   # expect: E0501 @ 4:50
    step 2 { model.layers[2].output[:, -1] += h }
}
