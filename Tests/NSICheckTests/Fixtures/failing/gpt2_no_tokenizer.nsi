# model: tiny-gpt2
# The tiny model has no tokenizer.json: tok() cannot be evaluated; GPT-2 has 2 layers.
trace "hello" {
    save p = model.logits[0, -1][tok(" Paris")]        # expect: E0305 @ 4:34
    save h = model.transformer.h[2].output             # expect: E0402 @ 5:34
}
