param layer: int                                       # expect: E0603 @ 1:7
trace "x" { save y = model.logits }
