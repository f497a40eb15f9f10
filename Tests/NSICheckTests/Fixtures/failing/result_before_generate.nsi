trace "The capital of France is" {
    save ids = result.ids                  # expect: E0209 @ 2:16
}
generate "Hello" (max_tokens = 3) {
    step 1 { save t = result.ids }         # expect: E0209 @ 5:23
}
