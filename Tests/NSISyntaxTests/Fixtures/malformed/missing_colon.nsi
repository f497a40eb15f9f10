# A param without `:` before its type.
param layer int = 8
# expect: E0101 @ 2:13
param alpha: float = 0.5
