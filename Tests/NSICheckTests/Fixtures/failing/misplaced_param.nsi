trace "The capital of France is" {
    param layer: int = 3      # expect: E0204 @ 2:5
}
