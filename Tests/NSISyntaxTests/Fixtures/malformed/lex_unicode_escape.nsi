# Malformed \u{...} escapes.
trace "prompt" {
    let a = tok("\u{}")
# expect: E0003 @ 3:18
    let b = tok("\u{110000}")
# expect: E0003 @ 5:18
    let c = tok("\u{D800}")
# expect: E0003 @ 7:18
    let d = tok("\u41")
# expect: E0003 @ 9:18
    let e = tok("\u{123456789}")
# expect: E0003 @ 11:18
    let f = tok("\u{41")
# expect: E0003 @ 13:18
    let g = tok("\u{e9}")
}
