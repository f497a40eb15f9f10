# cache_residuals.nsi — cache the residual stream after every layer for one prompt
param prompt: str = "The Eiffel Tower is located in the city of"
trace prompt {
    save embed = model.embed.output
    for l in 0..<model.num_layers {
        save resid[l] = model.layers[l].output
    }
}
