# A `let` of the prompt pass cannot be edited inside a `step` body: its value after the
# body would depend on which steps ran.
generate "I think that you are" (max_tokens = 3) {
    let v = zeros(576)
    step 1 {
        v[0] = 1                                 # expect: E0210 @ 6:9
    }
}
