# Literals that do not fit an Int64 or a finite Double.
trace "prompt" {
    let a = 99999999999999999999
# expect: E0005 @ 3:13
    let b = 1e999
# expect: E0005 @ 5:13
    let c = 9223372036854775807
}
