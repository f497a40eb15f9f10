# params: layr=3, alpha=abc
param layer: int = 3
param alpha: float = 0.5                               # expect: E0602 @ 3:7, E0601 @ 1:1
trace "x" { model.layers[layer].output *= alpha }
