# In a generate header `(` after the prompt opens the options: a call in the prompt
# needs parentheses.
generate f(x) (max_tokens = 1) {
# expect: E0115 @ 3:12
# expect: E0101 @ 3:15
}
generate (f(x)) (max_tokens = 1) {
}
