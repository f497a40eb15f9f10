# Secondary labels: a repeated option, an unclosed call spanning lines.
generate "prompt" (max_tokens = 3, temperature = 0.8,
                   max_tokens = 4) {
    let a = cosine(model.layers[1].output,
                   model.layers[2].output
    save b = a
}
