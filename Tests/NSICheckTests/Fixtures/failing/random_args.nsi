# Random draws take compile-time dimensions and seeds, and randint a non-empty range.
trace "The Eiffel Tower is located in the city of" {
    save a = randn(2, 3, seed = 0.5)                         # expect: E0305 @ 3:33
    save b = randint(5, 5, [3])                              # expect: E0305 @ 4:25
    save c = rand(2, scale = 1.0)                            # expect: E0307 @ 5:22
}
