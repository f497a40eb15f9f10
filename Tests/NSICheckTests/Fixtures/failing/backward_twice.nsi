# One reverse pass per invoke: a second `backward` is refused.
trace "The Eiffel Tower is located in the city of" {
    backward model.logits[0, -1, 42]
    backward model.logits[0, -1, 43]                        # expect: E0217 @ 4:5
}
