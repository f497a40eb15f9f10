trace "The capital of France is" {
    save logits = model.logits[0, -1]
    save logits = model.logits[0, -2]      # expect: E0207 @ 3:10
}
