//go:build !race

package casbinauthz

const raceEnabled = false
