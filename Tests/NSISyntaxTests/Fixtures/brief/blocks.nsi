trace PROMPT { ... }                    # one forward pass over one prompt (an implicit invoke)
trace ["a", "b", "c"] { ... }           # one invoke with three rows (batch of 3)
trace {                                 # several invokes, batched into one forward pass
    invoke "clean prompt" { ... }
    invoke "corrupt prompt" { ... }
}
generate PROMPT (max_tokens = 12) { ... }              # greedy by default
generate PROMPT (max_tokens = 40, temperature = 0.8, top_k = 50, seed = 7) { ... }
