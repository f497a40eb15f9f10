let h = model.layers[8].output                   # bind a value (an immutable snapshot)
save hidden = model.layers[8].output[:, -1]      # a result, returned to the user by name
model.layers[3].mlp.output[:, -1] = 0            # write into the running model
model.layers[10].output += alpha * steer         # += -= *= /= too
model.layers[5].attn.z[:, :, 3] = 0              # zero-ablate head 3 of layer 5
skip model.layers[4]                             # the layer passes its input through unchanged
for l in 0..<model.num_layers { ... }            # static loop, unrolled at compile time
for l in [3, 8, 12] { ... }
let c[l] = ...      save lens[l] = ...           # indexed names inside static loops
if cond { ... } else { ... }                     # static when cond is known at compile time; else a runtime branch
