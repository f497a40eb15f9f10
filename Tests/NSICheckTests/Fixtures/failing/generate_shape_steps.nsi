# After step 0 the sequence length is 1 (KV-cached decoding).
generate "The capital of France is" (max_tokens = 4) {
    let prompt_h = model.layers[3].output
    step 2 {
        model.layers[3].output[:, 3] = 0               # expect: E0303 @ 5:35
        model.layers[3].output = prompt_h              # expect: E0301 @ 6:34
    }
    step 0 { model.layers[3].output[:, 3] = 0 }
}
