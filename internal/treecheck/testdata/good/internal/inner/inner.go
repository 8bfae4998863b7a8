package inner

// Name returns a name.
func Name() string { return "k" }
