trace "The capital of France is" { save top = model.logits[0, -1].topk(3) }
trace "The capital of Italy is" { save top = model.logits[0, -1].topk(3) }   # expect: E0207 @ 2:40
