# generate_then_trace.nsi — generate a continuation, then trace what was generated, in one script
# At which layer does the logit lens already predict the last token the model generated?
generate "The capital of France is" (max_tokens = 6) {
    save ids = result.ids                   # i64[1, 11]: the prompt's 5 tokens and the 6 generated
}
let generated = result.ids                  # a value of the session: a prompt for the next block
trace generated {
    let last = generated[0, -1]             # the token generated last
    for l in 0..<model.num_layers {
        let p[l] = model.lm_head(model.norm(model.layers[l].output[0, -2])).softmax(-1)[last]
    }
    save lens = stack(p)                    # f32[30]: its probability under the lens at each layer
    save final = model.logits[0, -2].softmax(-1)[last]
}
