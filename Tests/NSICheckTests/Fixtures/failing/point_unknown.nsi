trace "The capital of France is" {
    save a = model.layers[3].mlp.outptu                # expect: E0401 @ 2:14
    save b = model.model.layers[3].self_attn.o_prj.output   # expect: E0401 @ 3:14
}
