param name: str = "x"
trace "The capital of France is" {
    save s = model.logits[0, -1] + name                # expect: E0321 @ 3:34
    save t = not 3                                     # expect: E0321 @ 4:14
}
