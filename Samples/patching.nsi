# patching.nsi — activation patching of the residual stream, every layer
param clean: str = "When John and Mary went to the store, Mary gave a drink to"
param corrupt: str = "When John and Mary went to the store, John gave a drink to"
param pos: int = 9
trace {
    invoke clean {
        for l in 0..<model.num_layers { let c[l] = model.layers[l].output[:, pos] }
    }
    for l in 0..<model.num_layers {
        invoke corrupt {
            model.layers[l].output[:, pos] = c[l]
            let lg = model.logits[0, -1]
            save logit_diff[l] = lg[tok(" Mary")] - lg[tok(" John")]
        }
    }
}
