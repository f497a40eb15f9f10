trace "The capital of France is" {
    save t = model.logits[0, -1].topk(2.5)             # expect: E0305 @ 2:39
    save u = tok(42)                                   # expect: E0305 @ 3:18
}
