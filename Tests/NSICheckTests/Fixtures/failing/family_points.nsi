# model: tiny-olmo2
# OLMo 2 has no norm before attention or the MLP, and no pre-norm callables.
trace "hello" {
    save a = model.layers[0].attn_norm.output                   # expect: E0401 @ 4:14
    save b = model.layers[0].mlp_norm(model.layers[0].output)   # expect: E0401 @ 5:14
    save c = model.layers[0].attn.input[0, -1]
}
