package bad

// TestVar is in a test file: allowed.
var TestVar = 1
