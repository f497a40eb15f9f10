trace "The capital of France is" {
    save p = model.logits[0, -1][tok(" Parisian Eiffel")]    # expect: E0314 @ 2:34
    save q = model.logits[0, -1][tok("")]                    # expect: E0314 @ 3:34
}
