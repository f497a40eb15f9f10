# Subscripts and lists whose `]` never comes.
trace "prompt" {
    let a = model.layers[0].output[:, -1
# expect: E0104 @ 3:41
    for l in [3, 8, 12 {
# expect: E0104 @ 5:23
        let b = l
    }
}
