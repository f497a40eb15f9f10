# Independent errors in one script are all reported.
param prompt: str = "The capital of France is"
trace prompt {
    save a = model.layers[40].output                   # expect: E0402 @ 4:27
    save b = undefined_thing                           # expect: E0201 @ 5:14
    model.layers[3].output = model.layers[9].output    # expect: E0501 @ 6:30
    save c = model.logits[0, -1].topk(5).valuez        # expect: E0306 @ 7:42
}
