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
	port, release, err := HoldPort(reuse)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = release() })
	return port
}

// HoldPort is holdPort for a program that is not a test (scripts/holdport,
// which holds the port of a server a script starts, as ReservePort does
// for a test): it binds a socket that never listens to a free port of
// 127.0.0.1, with SO_REUSEADDR when reuse, and returns the port and the
// function that closes the socket.
func HoldPort(reuse bool) (port int, release func() error, err error) {
	syscall.ForkLock.RLock() // no child inherits the socket
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return 0, nil, err
	}
	fail := func(err error) (int, func() error, error) {
		_ = syscall.Close(fd)
		return 0, nil, err
	}
	if reuse {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			return fail(err)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fail(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return fail(err)
	}
	return sa.(*syscall.SockaddrInet4).Port, func() error { return syscall.Close(fd) }, nil
}
