# Prompts given as values: token ids [T] or [rows, T] in the vocabulary, computed before the block.
let noise = randn(2, 5)
let wide = randint(0, 100, [2, 3, 4])
trace noise { save a = 1 }                                  # expect: E0305 @ 4:7
trace wide { save b = 1 }                                   # expect: E0305 @ 5:7
trace [12, -3] { save c = 1 }                               # expect: E0305 @ 6:7
trace model.logits.argmax(-1) { save d = 1 }                # expect: E0406 @ 7:7
