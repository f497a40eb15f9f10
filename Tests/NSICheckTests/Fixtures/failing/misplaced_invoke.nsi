# A trace with its own prompt has one implicit invoke.
trace "The capital of France is" {
    invoke "Another prompt" {     # expect: E0204 @ 3:5
        save x = model.logits
    }
}
