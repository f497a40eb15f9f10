# Several independent errors in one script, each reported once.
param layer: int = 8
param alpha: flaot = -0.5
# expect: E0118 @ 3:14
trace "The Eiffel Tower is located in the city of" {
    let h = model.layers[layer].output[0, -1
# expect: E0104 @ 6:45
    save p = model.lm_head(model.norm(h)).softmax(-1)[tok(" Paris")]
    model.layers[3].mlp.output[:, -1] = = 0
# expect: E0102 @ 9:41
    let = 1
# expect: E0103 @ 11:9
}
generate "I think that you are" (max_tokens = 12, max_tokens = 3) {
# expect: E0114 @ 14:51
    each step { model.layers[10].output += alpha * }
# expect: E0102 @ 16:52
    step 0..<3 { let s = 1 2 }
# expect: E0106 @ 18:28
    save ids = result.ids
}
