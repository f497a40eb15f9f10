trace "The capital of France is" {
    let h = model.layers[1].output[0]                  # [T, 576]
    let a = model.layers[1].mlp.act[0]                 # [T, 1536]
    save m = h @ a                                     # expect: E0309 @ 4:16
    # A weight is stored [out, in]: the help says the right side's `.T` fits.
    save u = h @ model.layers[1].mlp.up_proj.weight    # expect: E0309 @ 6:16
}
