//go:build !unix

package testkit

import (
	"net"
	"testing"
)

// RefusedAddr returns a loopback address (127.0.0.1:port) nothing listens
// on: an upstream that is down. Outside Unix the port is only released,
// not held: another listener may take it before the test connects. An
// error fails t.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
