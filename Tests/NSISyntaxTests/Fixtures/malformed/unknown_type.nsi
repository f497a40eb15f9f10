# Type names are int, float, bool, str, tensor, f32 and i32.
param a: flaot = 1.0
# expect: E0118 @ 2:10
param b: string = "x"
# expect: E0118 @ 4:10
param c: tensr[4] = zeros(4)
# expect: E0118 @ 6:10
param d: int = 1
