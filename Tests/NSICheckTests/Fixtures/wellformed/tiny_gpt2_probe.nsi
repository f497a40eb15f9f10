# model: tiny-gpt2
# The brief's constructs on a model with 2 layers and no tokenizer (prompts as text give
# a symbolic length T).
param alpha: float = 0.5
trace "hello world" {
    for l in 0..<model.num_layers {
        let h = model.layers[l].output[0, -1]
        save lens[l] = model.lm_head(model.norm(h)).softmax(-1)[42]
    }
    model.transformer.h[1].mlp.c_fc.output[:, -1] *= alpha
    save top = model.logits[0, -1].topk(5)
    save pattern = model.layers[1].attn.pattern[0]
}
