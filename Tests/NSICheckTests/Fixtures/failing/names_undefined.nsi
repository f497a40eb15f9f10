# An undefined name, with a suggestion for a near miss.
trace "The capital of France is" {
    let hidden = model.layers[3].output
    save h = hiden[0, -1]         # expect: E0201 @ 4:14
    save g = nothing_like_it       # expect: E0201 @ 5:14
}
