# attribution_heads.nsi — which attention heads carry the name that decides the answer?
#
# Attribution patching over every head's output (attn.z, [B, T, heads, head_dim]): the
# effect of patching a head from the clean run into the corrupt one, estimated to first
# order from one forward and one reverse pass, summed over positions.
param clean: str = "When John and Mary went to the store, Mary gave a drink to"
param corrupt: str = "When John and Mary went to the store, John gave a drink to"
trace {
    invoke clean {
        for l in 0..<model.num_layers { let c[l] = model.layers[l].attn.z }
    }
    invoke corrupt {
        for l in 0..<model.num_layers { let x[l] = model.layers[l].attn.z }
        let lg = model.logits[0, -1]
        backward lg[tok(" Mary")] - lg[tok(" John")]
        for l in 0..<model.num_layers {
            save heads[l] = ((c[l] - x[l]) * model.layers[l].attn.z.grad).sum(-1).sum(1)[0]
        }
    }
}
