# A body that runs at every step is checked at the prompt pass (5 tokens) and at later steps (1 token).
generate "I think that you are" (max_tokens = 4) {
    each step { model.layers[2].output[:, 5] = 0 }          # expect: E0303 @ 3:43
    step 0..<2 { model.layers[3].output[:, 2] = 0 }         # expect: E0303 @ 4:44
    each step { model.layers[4].output[:, -1] *= 0.5 }      # every step has a last position
    step 0 { model.layers[5].output[:, 4] = 0 }             # the prompt pass alone: 5 positions
}
