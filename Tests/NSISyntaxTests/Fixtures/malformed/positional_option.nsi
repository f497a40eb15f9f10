# generate options are named.
generate "prompt" (12) {
# expect: E0115 @ 2:20
}
generate "prompt" (max_tokens = 12, 0.8) {
# expect: E0115 @ 5:37
}
