# Tabs and non-ASCII text before an error: the underline still lines up.
trace "café — naïve" {
	let h = model.layers[8].output[0, -1
	save s = "été" + * h
}
