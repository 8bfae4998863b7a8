package testkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	c := NewClock(t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Add(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(800*time.Second); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
	c.Add(-time.Hour)
	if got, want := c.Now(), t0.Add(800*time.Second-time.Hour); !got.Equal(want) {
		t.Errorf("after Add(-1h): Now = %v, want %v", got, want)
	}
}

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if len(l) != 1 || l[0] < '0' || l[0] > '7' {
			t.Fatalf("torn write: %q", l)
		}
	}
}

// recorder is a testing.TB that records failures; Fatal ends its goroutine.
type recorder struct {
	testing.TB
	failed, fatal bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed, r.fatal = true, true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.failed, r.fatal = true, true; runtime.Goexit() }

func runGolden(path string, got []byte, update bool) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); Golden(r, path, got, update) }()
	<-done
	return r
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.golden")
	if r := runGolden(path, []byte("a\n"), false); !r.fatal {
		t.Error("a missing golden file passed")
	}
	if r := runGolden(path, []byte("a\n"), true); r.failed {
		t.Error("-update failed")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "a\n" {
		t.Errorf("written %q, %v", b, err)
	}
	if r := runGolden(path, []byte("a\n"), false); r.failed {
		t.Error("equal bytes failed")
	}
	if r := runGolden(path, []byte("b\n"), false); !r.failed || r.fatal {
		t.Errorf("a difference: failed %t, fatal %t; want an Errorf", r.failed, r.fatal)
	}
}

func TestServe(t *testing.T) {
	ln := Listen(t)
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Fatalf("listening on %v, want loopback", ip)
	}
	Serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Errorf("%d %q", resp.StatusCode, b)
	}
}

// TestRefusedAddr: the address refuses connections, and while the test
// runs no listener can take its port (net.Listen sets SO_REUSEADDR).
func TestRefusedAddr(t *testing.T) {
	addr := RefusedAddr(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s accepted a connection", addr)
	}
	if runtime.GOOS == "windows" {
		return // the port is released there, not held
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("a listener took %s", addr)
	}
}

// TestReservePort: a listener binds the reserved port, stops and binds it
// again (server-side closes left TIME_WAIT behind); with it stopped the
// port refuses connections; and on Linux no bind to port 0 returns a
// reserved port (200 reserved, 2,000 binds: a released port would be
// handed out about 57 times).
func TestReservePort(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ReservePort(t)))
	for round := range 2 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("round %d: listen on the reserved %s: %v", round, addr, err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		_, _ = c.Read(make([]byte, 1)) // the server closed first
		c.Close()
		ln.Close()
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("%s accepted a connection with its server stopped", addr)
	}
	if runtime.GOOS != "linux" {
		return // the port is released there, not held
	}
	reserved := map[int]bool{}
	for range 200 {
		reserved[ReservePort(t)] = true
	}
	for range 2000 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if reserved[p] {
			t.Fatalf("a listener on port 0 got the reserved port %d", p)
		}
	}
}
