# causal_tracing.nsi — causal tracing: corrupt the subject with seeded noise, restore clean states layer by layer
# "The Eiffel Tower" is tokens 0..<4 of the prompt. The noise's scale is three times the
# standard deviation of SmolLM2's embeddings (0.136), as in the ROME paper; `randn` with a
# seed draws the same noise on every machine and every run.
param scale: float = 0.4
trace {
    let noise = randn(1, 4, 576, seed = 1) * scale
    invoke "The Eiffel Tower is located in the city of" {
        for l in 0..<30 {
            let subject[l] = model.layers[l].output[:, 0:4]   # the subject's tokens, clean
            let last[l] = model.layers[l].output[:, 9]        # the last token, clean
        }
        save clean = model.logits[:, -1].softmax(-1)[:, tok(" Paris")]
    }
    invoke "The Eiffel Tower is located in the city of" {
        model.embed.output[:, 0:4] += noise
        save corrupted = model.logits[:, -1].softmax(-1)[:, tok(" Paris")]
    }
    for l in 0..<30 {
        invoke "The Eiffel Tower is located in the city of" {
            model.embed.output[:, 0:4] += noise
            model.layers[l].output[:, 0:4] = subject[l]
            save restore_subject[l] = model.logits[:, -1].softmax(-1)[:, tok(" Paris")]
        }
        invoke "The Eiffel Tower is located in the city of" {
            model.embed.output[:, 0:4] += noise
            model.layers[l].output[:, 9] = last[l]
            save restore_last[l] = model.logits[:, -1].softmax(-1)[:, tok(" Paris")]
        }
    }
}
