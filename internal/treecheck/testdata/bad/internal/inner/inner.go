package inner

// Key is internal.
type Key string

// Counter is an exported var of an internal package: refused.
var Counter int
