//go:build race

package core

// raceEnabled: the race detector drops sync.Pool entries at random, so
// allocation counts may vary by one.
const raceEnabled = true
