# `.grad` needs the invoke's `backward` first; a generate block has no gradients at all.
trace "The Eiffel Tower is located in the city of" {
    let early = model.layers[3].output.grad                 # expect: E0216 @ 3:17
    backward model.logits[0, -1, 42]
}
trace {
    invoke "a" {
        backward model.logits[0, -1].sum()
    }
    invoke "b" {
        save g = model.layers[3].output.grad                # expect: E0216 @ 11:18
    }
}
generate "The Eiffel Tower" (max_tokens = 2) {
    backward model.logits.sum()                             # expect: E0216 @ 15:5
}
