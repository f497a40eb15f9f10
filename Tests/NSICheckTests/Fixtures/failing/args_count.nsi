trace "The capital of France is" {
    save p = model.logits[0, -1].softmax(-1, 2)        # expect: E0307 @ 2:46
    save q = model.logits[0, -1].sum(axis = 0)         # expect: E0307 @ 3:38
    save r = model.logits[0, -1].transpose(0)          # expect: E0307 @ 4:14
}
