package demo

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestNewServerBoundsBodies (attack-4): the examples' server has no
// ReadTimeout (it carries GET event streams), so a request declaring a
// body that never arrives, on a route that does not read it, was held
// forever: net/http discards the unread body before answering, with no
// deadline. NewServer now wraps its handler in core.BoundBodyReads, which
// ends such a connection after core.BodyReadTimeout.
func TestNewServerBoundsBodies(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := NewServer(mux)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	limit := core.BodyReadTimeout + 15*time.Second
	_ = c.SetReadDeadline(time.Now().Add(limit))
	if _, err := io.WriteString(c, "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("connection still held after %v (body deadline %v): %v", time.Since(start), core.BodyReadTimeout, err)
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 404") {
		t.Errorf("answer %q, want the 404", b)
	}
}
