trace "The capital of France is" {
    save p = model.logits[0, -1].sofmax(-1)            # expect: E0306 @ 2:34
}
