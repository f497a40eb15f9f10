# Weights are read-only and are not modules: writing one or calling one is refused.
trace "The Eiffel Tower is located in the city of" {
    model.norm.weight = 0                                   # expect: E0210 @ 3:5
    save x = model.layers[2].attn.o_proj.weight(3)          # expect: E0403 @ 4:14
    save y = model.layers[2].attn.o_proj.wieght             # expect: E0401 @ 5:14
}
