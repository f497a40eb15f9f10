# model: tiny-qwen2
# Patching across invokes and steering in generation on a 2-layer model.
trace {
    invoke "a b c" {
        for l in 0..<model.num_layers { let c[l] = model.layers[l].output[:, -1] }
    }
    for l in 0..<model.num_layers {
        invoke "a b d" {
            model.layers[l].output[:, -1] = c[l]
            save logit[l] = model.logits[0, -1, 7]
        }
    }
}
generate "a b" (max_tokens = 3) {
    let v = model.layers[0].output[0, -1]
    each step { model.layers[1].output += -0.5 * v }
    step 1 { skip model.layers[0].mlp }
    save ids = result.ids
}
