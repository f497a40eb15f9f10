trace {                                    # expect: E0211 @ 1:1
}
