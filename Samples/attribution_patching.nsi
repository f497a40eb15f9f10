# attribution_patching.nsi — which layers carry the name that decides the answer?
#
# Attribution patching (a first-order estimate of activation patching): the effect of
# patching layer l's output from the clean run into the corrupt one is estimated as
# (clean - corrupt) · d metric / d output, from one forward and one reverse pass.
param clean: str = "When John and Mary went to the store, Mary gave a drink to"
param corrupt: str = "When John and Mary went to the store, John gave a drink to"
trace {
    invoke clean {
        for l in 0..<model.num_layers { let c[l] = model.layers[l].output }
    }
    invoke corrupt {
        for l in 0..<model.num_layers { let x[l] = model.layers[l].output }
        let lg = model.logits[0, -1]
        let m = lg[tok(" Mary")] - lg[tok(" John")]
        backward m
        save metric = m
        for l in 0..<model.num_layers {
            save attr[l] = ((c[l] - x[l]) * model.layers[l].output.grad).sum(-1)[0]
            save grad[l] = model.layers[l].output.grad[0]
        }
    }
}
