# Invokes share one forward pass: a later layer of an earlier invoke is not there yet.
trace {
    invoke "When John and Mary went to the store" {
        let c = model.layers[8].output[:, -1]
    }
    invoke "When John and Mary went to the park" {
        model.layers[2].output[:, -1] = c              # expect: E0502 @ 7:41
        model.layers[9].output[:, -1] = c
    }
}
