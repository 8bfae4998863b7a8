package nested

// Skipped is in a nested module, which is checked on its own.
var Skipped = 1
