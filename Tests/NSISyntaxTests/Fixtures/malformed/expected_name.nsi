# Names left out, or keywords where a name must be.
trace "prompt" {
    let = 3
# expect: E0103 @ 3:9
    let step = 3
# expect: E0103 @ 5:9
    for in [1, 2] { let x = 1 }
# expect: E0103 @ 7:9
    let y = model.layers[0].
# expect: E0103 @ 9:29
    save result = 1
# expect: E0103 @ 11:10
}
