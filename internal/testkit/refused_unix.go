//go:build unix

package testkit

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// RefusedAddr returns a loopback address (127.0.0.1:port) that refuses
// every connection until the test ends: an upstream that is down. Its port
// stays bound to a socket that never listens, so no listener can take it
// meanwhile (a listener closed to free a port leaves it to the next one
// the kernel hands out, in this test, another or another process, which
// then answers or stalls instead of refusing). An error fails t.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	// Without SO_REUSEADDR: a listener that sets it (as net.Listen does)
	// cannot share the port either.
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(holdPort(t, false)))
}

// holdPort binds a socket that never listens to a free port of 127.0.0.1,
// with SO_REUSEADDR when reuse, keeps it until the test ends and returns
// the port. An error fails t.
func holdPort(t testing.TB, reuse bool) int {
	t.Helper()
	syscall.ForkLock.RLock() // no child inherits the socket
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if reuse {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}
