//go:build race

package clustertest

// raceEnabled: the race detector slows reloads several times over, so the
// propagation bound is checked at 3 s instead of 1 s (the 1 s figure is
// measured without it).
const raceEnabled = true
