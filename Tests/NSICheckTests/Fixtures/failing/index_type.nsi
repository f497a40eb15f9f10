trace "The capital of France is" {
    save a = model.logits[0, 1.5]                      # expect: E0311 @ 2:30
    save b = model.logits[0, "x"]                      # expect: E0311 @ 3:30
}
