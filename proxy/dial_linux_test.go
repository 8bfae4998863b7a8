package proxy_test

import (
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/proxy"
)

// TestDialTimeout: an upstream whose accept queue is full (a listener with
// backlog 0 that never accepts, already holding one connection) drops new
// SYNs, so connecting hangs: the client gets 504 after DialTimeout, not
// after ResponseHeaderTimeout.
func TestDialTimeout(t *testing.T) {
	t.Parallel()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.DialTimeout("tcp", addr, time.Second) // fills the queue
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("the kernel accepted a connection beyond a full backlog: this test cannot provoke a dial timeout here")
	}
	f := newFixture(t)
	url, _ := f.front(t, "http://"+addr+"/mcp", proxy.Config{DialTimeout: 300 * time.Millisecond, ResponseHeaderTimeout: 20 * time.Second})
	start := time.Now()
	r := send(t, f.newRequest(t, url, rpcBody(5, "tools/call", `{"name":"ls","arguments":{}}`)))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("answer after %v", d)
	}
	wantRPCError(t, r, http.StatusGatewayTimeout, "5")
}
