trace "The capital of France is" {
    let a = model.layers[2].mlp.act        # [1, T, 1536]
    let b = model.layers[2].output         # [1, T, 576]
    save c = a + b                         # expect: E0302 @ 4:16
}
trace "The capital of France is" {
    # Integer-tensor indices of one subscript broadcast together.
    save d = model.layers[2].attn.pattern[0, 3, [1, 2, 3], [0, 1]]   # expect: E0302 @ 8:60
}
