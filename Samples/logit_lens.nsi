# logit_lens.nsi — at which layer does the model know the answer?
param prompt: str = "The Eiffel Tower is located in the city of"
trace prompt {
    for l in 0..<model.num_layers {
        let h = model.layers[l].output[0, -1]
        save p_paris[l] = model.lm_head(model.norm(h)).softmax(-1)[tok(" Paris")]
    }
    save top = model.logits[0, -1].topk(5)
}
