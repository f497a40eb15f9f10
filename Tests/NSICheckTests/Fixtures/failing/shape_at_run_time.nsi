# A run-time prompt's length is not known when compiling: `.shape` and `len` say which dimension.
param prompt: str = "The Eiffel Tower is located in the city of"
trace prompt {
    let h = model.layers[3].output
    save n = h.shape[1]                                     # expect: E0305 @ 5:14
    save k = len(h[0])                                      # expect: E0305 @ 6:18
    save ok = h.shape[2]                                    # 576: known whatever T is
}
