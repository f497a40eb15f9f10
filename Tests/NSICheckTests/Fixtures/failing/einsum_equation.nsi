# einsum takes letters per dimension, `->` and the output's letters; sizes must agree.
trace "The capital of France is" {
    let h = model.layers[3].output[0]                    # f32[5, 576]
    let w = model.lm_head.weight[0:10]                   # f32[10, 576]
    save a = einsum("td,vd->tv", h, w)
    save b = einsum("td,vd->tvx", h, w)                  # expect: E0305 @ 6:21
    save c = einsum("tt->t", h)                          # expect: E0305 @ 7:21
    save d = einsum("...d->d", h)                        # expect: E0305 @ 8:21
    save e = einsum("td,d->t", h)                        # expect: E0305 @ 9:21
    save f = einsum("td,tv->dv", h, w)                   # expect: E0302 @ 10:37
    save g = einsum("td,vd->tv", h, w.shape)             # expect: E0305 @ 11:37
}
