# Python habit: single-quoted strings are reported once and read as strings.
trace 'The Eiffel Tower is in' {
# expect: E0008 @ 2:7
    save p = model.logits[0, -1][tok(' Paris')]
# expect: E0008 @ 4:38
}
