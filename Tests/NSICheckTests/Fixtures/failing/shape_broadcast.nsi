trace "The capital of France is" {
    let a = model.layers[2].mlp.act        # [1, T, 1536]
    let b = model.layers[2].output         # [1, T, 576]
    save c = a + b                         # expect: E0302 @ 4:16
}
