//go:build !unix

package testkit

import (
	"strconv"
	"testing"
)

// RefusedAddr returns a loopback address (127.0.0.1:port) nothing listens
// on: an upstream that is down. Outside Unix the port is only released,
// not held: another listener may take it before the test connects. An
// error fails t.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(releasedPort(t))
}
