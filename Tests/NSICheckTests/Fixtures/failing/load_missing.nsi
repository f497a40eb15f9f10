param steer: tensor[model.hidden_size] = load("no_such_file.safetensors", "steer")   # expect: E0315 @ 1:47
trace "x" { model.layers[3].output += steer }
