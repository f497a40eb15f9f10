# Subscripts and index lists need at least one index.
trace "prompt" {
    let a = model.layers[0].output[]
# expect: E0116 @ 3:35
    let c[] = 1
# expect: E0116 @ 5:10
    let d = []
}
