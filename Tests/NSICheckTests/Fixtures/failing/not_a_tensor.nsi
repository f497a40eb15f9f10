param name: str = "x"
trace "The capital of France is" {
    save s = name.softmax(-1)                          # expect: E0319 @ 3:19
    save t = name[0]                                   # expect: E0319 @ 4:14
}
