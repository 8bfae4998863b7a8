//go:build !linux

package redisproc

import "syscall"

// sysProcAttr: without Pdeathsig, t.Cleanup alone stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
