trace "The capital of France is" {
    let a = model.layers[1].output[0]                  # [T, 576]
    let b = model.layers[1].mlp.act[0]                 # [T, 1536]
    save c = cat([a, b], 0)                            # expect: E0316 @ 4:22
    save d = stack([a, a], 3)                          # expect: E0308 @ 5:28
}
