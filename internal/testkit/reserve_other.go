//go:build !linux

package testkit

import (
	"net"
	"testing"
)

// ReservePort returns a port of 127.0.0.1 for a server the test starts
// and that binds the port itself. Outside Linux the port is only picked
// free and released, not held (other systems let no second socket bind a
// port held with SO_REUSEADDR alone): another process may take it before
// the server binds it, so a start must detect a failed bind. An error
// fails t.
func ReservePort(t testing.TB) int {
	t.Helper()
	return releasedPort(t)
}

// releasedPort returns a port of 127.0.0.1 that was free when a listener
// took it, closed since. An error fails t.
func releasedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}
