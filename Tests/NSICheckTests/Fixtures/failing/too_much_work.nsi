# 50,000 iterations are within the loop limit, but checking their bodies again and again
# passes the bound on checking work: compiling stays short for any short script.
trace "x" {
    for i in 0..<50000 {
        let a = 1.0 + 2.0 * 3.0 - 4.0   # expect: E0215 @ 5:29
        let b = a * 2.0 + 1.0
    }
    save y = model.logits
}
