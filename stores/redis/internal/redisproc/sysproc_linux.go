package redisproc

import "syscall"

// sysProcAttr makes the kernel kill the server when the test process
// dies (the thread that started it, which the Go runtime only retires
// for a goroutine that exits locked to it; tests do not lock).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
