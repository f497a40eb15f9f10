# `skip` takes a module path.
trace "prompt" {
    skip layer
# expect: E0110 @ 3:10
    skip model.layers[3](h)
# expect: E0110 @ 5:10
    skip model
# expect: E0110 @ 7:10
    skip 3
# expect: E0110 @ 9:10
    skip model.layers[4]
    skip model.model.layers[4].mlp
}
