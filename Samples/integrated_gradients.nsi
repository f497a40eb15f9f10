# integrated_gradients.nsi — how much does each input token contribute to " Paris"?
#
# Integrated gradients along the straight path from a baseline prompt's embeddings to the
# prompt's (both ten tokens): at each of `steps` points (midpoint rule) an invoke of the
# prompt has its embeddings replaced by the point on the path, and all of them run as
# one batched forward and one batched reverse pass. `.grad` at the embedding is the
# gradient of the value written there. Each step saves its share ig.k (f32[T]); their
# sum over k is each token's attribution, and their total is about
# log p(Paris | prompt) - log p(Paris | baseline) (completeness, checked by the twin).
param prompt: str = "The Eiffel Tower is located in the city of"
param baseline: str = "The old stone tower is located in the city of"
param steps: int = 32
trace {
    invoke baseline { let b = model.embed.output }
    for k in 0..<steps {
        invoke prompt {
            let x = model.embed.output
            model.embed.output = b + (k + 0.5) / steps * (x - b)
            backward model.logits[0, -1].log_softmax(-1)[tok(" Paris")]
            save ig[k] = ((x - b) * model.embed.output.grad)[0].sum(-1) / steps
        }
    }
}
