trace "The capital of France is" {
    for l in 0..<model.num_layerz { }                  # expect: E0404 @ 2:18
    save n = model.hidden                              # expect: E0404 @ 3:14
}
