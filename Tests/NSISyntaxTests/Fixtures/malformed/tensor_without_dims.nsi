# Tensor types need their dimensions.
param a: tensor = load("steer.safetensors", "steer")
# expect: E0120 @ 2:10
param b: i32 = toks("x")
# expect: E0120 @ 4:10
param c: f32[] = zeros()
