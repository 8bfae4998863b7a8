package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// readyHandler is a public handler that records the type of each request
// body it is handed.
type readyHandler struct {
	mu     sync.Mutex
	bodies []string
}

func (h *readyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.bodies = append(h.bodies, fmt.Sprintf("%T", r.Body))
	h.mu.Unlock()
	http.NotFound(w, r)
}

func (h *readyHandler) Ready(context.Context) error { return nil }

// lineWriter hands the first line written to it to a channel.
type lineWriter struct{ c chan string }

func (l lineWriter) Write(p []byte) (int, error) {
	select {
	case l.c <- string(p):
	default:
	}
	return len(p), nil
}

// TestDeclaredBodyNeverSentBounded (reviewops, routed from attack-4): a
// request that declares a body and never sends it must not hold its
// connection on either command's servers. The proxy's servers have no
// ReadTimeout (event streams), so before the fix net/http's discard of the
// unread body before a /livez, /readyz, metadata or 404 answer waited
// forever; now every listener's handler is core.BoundBodyReads, which puts
// a core.BodyReadTimeout deadline on such a request (the handler sees the
// deadline-lifting body). The authorization server has a ReadTimeout,
// which bounds the same request (shortened here).
func TestDeclaredBodyNeverSentBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		read time.Duration
	}{
		{"proxy (no ReadTimeout)", 0},
		{"authserver (ReadTimeout)", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &readyHandler{}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			public, health, err := probes(h, false, log, "test", "knob", []string{"/mcp"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			out := lineWriter{c: make(chan string, 1)}
			done := make(chan int)
			go func() {
				done <- serveUntil(ctx, runSpec{
					name: "test", log: log, stdout: out, stderr: io.Discard,
					public:     listener{addr: "127.0.0.1:0", handler: public, headerBytes: 8 << 10},
					health:     listener{handler: health},
					readHeader: 5 * time.Second, read: tc.read, idle: time.Minute, shutdown: time.Second,
					announce: func(url string) string { return url },
				})
			}()
			t.Cleanup(func() { cancel(); <-done })
			var addr string
			select {
			case line := <-out.c:
				addr = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "test: ")), "http://")
			case <-time.After(10 * time.Second):
				t.Fatal("not serving")
			}
			for _, path := range []string{"/mcp", "/nowhere", "/livez", "/readyz"} {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = c.Write([]byte("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nabc"))
				if tc.read > 0 {
					start := time.Now()
					_ = c.SetReadDeadline(start.Add(5 * time.Second))
					if _, err := io.Copy(io.Discard, bufio.NewReader(c)); err != nil {
						t.Errorf("%s: connection still held after %v (ReadTimeout %v): %v", path, time.Since(start), tc.read, err)
					}
				}
				c.Close()
			}
			if tc.read > 0 {
				return
			}
			// The handler runs once the headers are in; wait for both
			// requests routed to it.
			deadline := time.Now().Add(5 * time.Second)
			for {
				h.mu.Lock()
				got := append([]string(nil), h.bodies...)
				h.mu.Unlock()
				if len(got) == 2 {
					for _, b := range got {
						if b != "*core.deadlineBody" {
							t.Errorf("handler got body %s, want the deadline-bounded *core.deadlineBody", b)
						}
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("handler saw %d requests, want 2", len(got))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
