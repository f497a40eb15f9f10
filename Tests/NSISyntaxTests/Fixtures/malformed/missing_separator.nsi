# Two statements on one line need `;` unless the second starts with a keyword.
trace "prompt" {
    model.layers[0].output = 0 model.layers[1].output = 0
# expect: E0106 @ 3:32
    let a = 1 b
# expect: E0106 @ 5:15
    let c = 1; let d = 2
    let e = 1 save f = 2
}
