# A file-level comment.

# Params.
param layer: int = 8  # trailing on a param

# Before the trace.
trace "prompt" {  # trailing on the header
    # Leading, inside.
    let a = 1  # trailing on a let


    # After two blank lines (kept as one).
    let b = f(1,  # inside a call: moved before the statement
              2)
    for l in [1, 2] { let c = l }  # describes the loop
    if a == 1 {
        let d = 1
    }  # after the if
    # Last in the block.
}  # after the block

# At the end of the file.
