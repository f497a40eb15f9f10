generate "Hello" (max_tokens = 0, temprature = 0.7, top_p = 1.5) {   # expect: E0212 @ 1:32, E0212 @ 1:35, E0212 @ 1:61
}
