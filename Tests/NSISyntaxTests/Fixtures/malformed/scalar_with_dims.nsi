# Scalar types have no dimensions.
param a: int[3] = 1
# expect: E0119 @ 2:13
param b: str[] = "x"
# expect: E0119 @ 4:13
