# batched_trace.nsi — one forward pass over three prompts of different lengths (left-padded)
trace ["The Eiffel Tower is located in the city of", "The capital of France is", "Hello"] {
    save hidden = model.layers[12].output[:, -1]
    save top = model.logits[:, -1].topk(5)
}
