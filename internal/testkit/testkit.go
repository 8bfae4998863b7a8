// Package testkit is the test scaffolding shared by the tests of every
// module: a settable clock, a buffer safe for concurrent writers, the
// golden-file comparison, a loopback HTTP server and loopback ports held
// for the test (RefusedAddr, ReservePort). Only tests import it.
package testkit

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock safe for concurrent use; pass its Now method
// where a configuration takes func() time.Time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Buffer is a bytes.Buffer that a logger or a child process may write while
// the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// LinesWithin fails t (Errorf) for each line of out longer than bound
// bytes: a log whose values from outside must be cut.
func LinesWithin(t testing.TB, out string, bound int) {
	t.Helper()
	for line := range strings.Lines(out) {
		if len(line) > bound {
			t.Errorf("log line of %d bytes, want at most %d: %.300s", len(line), bound, line)
		}
	}
}

// Golden compares got with the golden file at path. With update (each
// test binary's -update flag) it first writes got there, creating the
// directory. A missing file fails t at once; a difference fails it naming
// the file, with both texts.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Listen opens a TCP listener on a free loopback port (127.0.0.1:0); an
// error fails t. The listener closes when the server serving it stops.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Serve serves h on ln until the test ends, then shuts the server down
// (at most 2 s for requests in flight). Every server timeout is set: read
// header 5 s, read 10 s, write 30 s, idle 30 s.
func Serve(t testing.TB, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}
