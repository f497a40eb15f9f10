trace "The capital of France is" {
    if "yes" {                                         # expect: E0313 @ 2:8
        save x = model.logits
    }
}
