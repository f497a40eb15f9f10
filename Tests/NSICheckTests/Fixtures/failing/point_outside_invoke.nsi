trace {
    invoke "The capital of France is" { let a = model.logits[0, -1] }
    save b = model.layers[3].output                    # expect: E0406 @ 3:14
    model.layers[2].output[:] = 0                      # expect: E0406 @ 4:5
}
let mask = model.attention_mask                        # expect: E0406 @ 6:12
