# files: refused
# However `load` is written, the file policy refuses it: a server checks scripts so.
param steer: tensor[model.hidden_size] = (load
    ("/etc/model.safetensors", "steer"))   # expect: E0323 @ 4:6
trace "x" { model.layers[3].output += steer }
