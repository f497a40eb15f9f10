param layer: int = "eight"                             # expect: E0317 @ 1:20
param alpha: float = "x"                               # expect: E0317 @ 2:22
trace "x" { save y = model.logits }
