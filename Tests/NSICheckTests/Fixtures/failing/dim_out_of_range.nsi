trace "The capital of France is" {
    save s = model.layers[1].output.sum(dim = 3)       # expect: E0308 @ 2:47
    save p = model.logits[0, -1].softmax(1)            # expect: E0308 @ 3:42
}
