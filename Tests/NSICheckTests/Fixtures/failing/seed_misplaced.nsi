# `seed` sets the default streams once, at the top level, before the first draw without
# a seed, to a compile-time integer.
let noise = randn(4)
seed 3                                           # expect: E0204 @ 4:1
trace "The capital of France is" {
    seed 4                                       # expect: E0204 @ 6:5
    save n = noise
}
seed ok                                          # expect: E0201 @ 9:6
