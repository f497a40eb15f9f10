# A call whose `)` never comes: the error points after the last argument.
trace "prompt" {
    let a = model.lm_head(model.norm(h)
# expect: E0104 @ 3:40
    let b = f(1,
              2
# expect: E0104 @ 6:16
    let c = 3
}
