//go:build !unix

package coretest

import "time"

// processCPU returns -1: the process CPU time is not read on this platform.
func processCPU() time.Duration { return -1 }
