# steering.nsi — contrastive steering vector, then steered generation
trace "I love you. You are wonderful" { let love = model.layers[10].output[0, -1] }
trace "I hate you. You are terrible" { let hate = model.layers[10].output[0, -1] }
generate "I think that you are" (max_tokens = 12) {
    each step { model.layers[10].output += -0.5 * (love - hate) }
    save ids = result.ids
}
