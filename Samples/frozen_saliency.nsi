# frozen_saliency.nsi — which input tokens does " Paris" depend on, with attention frozen?
#
# Every layer's attention pattern is replaced by its own detached value, so the gradient
# flows through the values and the MLPs but not through where the heads look (a
# linearized model, as circuit tracers use). The saliency of each input position is the
# norm of the gradient at the embeddings.
trace "The Eiffel Tower is located in the city of" {
    for l in 0..<model.num_layers {
        model.layers[l].attn.pattern = model.layers[l].attn.pattern.detach()
    }
    let lp = model.logits[0, -1].log_softmax(-1)[tok(" Paris")]
    backward lp
    save log_p = lp
    save saliency = model.embed.output.grad[0].norm(-1)
    save g = model.layers[8].mlp.output.grad[0]
}
