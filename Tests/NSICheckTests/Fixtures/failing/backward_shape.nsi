# `backward` takes an f32 scalar computed from the model in this pass.
trace "The Eiffel Tower is located in the city of" {
    backward model.logits[0, -1]                            # expect: E0324 @ 3:14
}
trace "Paris" {
    backward ones(1).sum()                                  # expect: E0324 @ 6:14
}
trace "The capital of France" {
    model.layers[2].output.grad *= 0                        # expect: E0216 @ 9:5
    let m = model.logits[0, -1, 42]
    backward m
    model.layers[5].output = model.layers[5].output.grad    # expect: E0501 @ 12:30
}
