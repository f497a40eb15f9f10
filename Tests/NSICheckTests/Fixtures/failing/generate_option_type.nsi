param p: str = "x"
generate "Hello" (max_tokens = p, seed = 1.5) {   # expect: E0212 @ 2:32, E0212 @ 2:42
}
