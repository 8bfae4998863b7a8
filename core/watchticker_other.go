//go:build !linux

package core

import "time"

// newWatchTicker returns a time.Ticker (on Linux the ticker is a timerfd
// instead; see watchticker_linux.go).
func newWatchTicker(d time.Duration) watchTicker { return newTimeTicker(d) }
