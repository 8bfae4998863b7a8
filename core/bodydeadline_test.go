package core

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBoundBodyReads (attack-4): on a server without ReadTimeout, a request
// declaring a small body (under net/http's 256 KiB post-handler discard
// limit) and sending none was held forever by every handler that does not
// read the body: net/http discards the unread body before writing the
// answer, with no deadline. Live on `mcpauthz proxy` and `quickstart
// serve`: /livez, the metadata route, a 404 and the Guard's 401 were still
// unanswered after 12-90 s. Wrapped, each is closed within the deadline;
// a body that arrives slowly but in time is served, and a handler that
// outlives the deadline after reading its body keeps its context (the
// deadline is lifted at the end of the body).
func TestBoundBodyReads(t *testing.T) {
	g := newGuard(t)
	const deadline = 300 * time.Millisecond
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		g.Serve(w, r, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	})
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select { // outlive the deadline after the body is in
		case <-time.After(2 * deadline):
		case <-r.Context().Done():
			http.Error(w, "context cancelled", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(b)
	})
	srv := httptest.NewUnstartedServer(boundBodyReads(mux, BodyReadConfig{Timeout: deadline}, bodyWatchTick)) // no ReadTimeout
	srv.Config.ReadHeaderTimeout = 5 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ name, method, path string }{
		{"Guard refusal before the body (no token)", "POST", "/mcp"},
		{"health route", "GET", "/livez"},
		{"404", "POST", "/nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialBody(t, addr, 5*time.Second)
			if _, err := io.WriteString(c, tc.method+" "+tc.path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := io.Copy(io.Discard, c); err != nil {
				t.Fatalf("connection still held after %v (deadline %v): %v", time.Since(start), deadline, err)
			}
		})
	}
	t.Run("slow but complete body, handler outlives the deadline", func(t *testing.T) {
		c := dialBody(t, addr, 5*time.Second)
		body := strings.Repeat("x", 64)
		if _, err := io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:10]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(deadline / 3)
		if _, err := io.WriteString(c, body[10:]); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(got) != body {
			t.Fatalf("status %d body %q", resp.StatusCode, got)
		}
	})
}

// TestServeBoundsSlowBodies: on a server without ReadTimeout (and without
// BoundBodyReads), Serve's own body read is cut once it outlives the
// timeout (the watch's tick later at most): an authenticated request whose
// body never comes is answered and its connection closed; a body that
// arrives slowly but in time is served, and its handler, outliving the
// timeout after the body is in, keeps its context (nothing is left set on
// the connection). No read stays registered, and the watch stops.
func TestServeBoundsSlowBodies(t *testing.T) {
	g := newGuard(t)
	const timeout, tick = 300 * time.Millisecond, 50 * time.Millisecond
	g.bodies.timeout, g.bodies.tick = timeout, tick
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.Serve(w, r, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			select { // outlive the timeout after the body is in
			case <-time.After(2 * timeout):
			case <-r.Context().Done():
				http.Error(w, "context cancelled", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write(b)
		})
	})) // no ReadTimeout
	srv.Config.ReadHeaderTimeout = 5 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	auth := "Authorization: Bearer " + tokAlice + "\r\nMcp-Protocol-Version: 2025-11-25\r\n"
	t.Run("body never comes", func(t *testing.T) {
		c := dialBody(t, addr, 5*time.Second)
		if _, err := io.WriteString(c, "POST /mcp HTTP/1.1\r\nHost: x\r\n"+auth+"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("connection still held after %v (timeout %v): %v", time.Since(start), timeout, err)
		}
		if d := time.Since(start); d < timeout-tick {
			t.Errorf("cut after %v, before the timeout %v", d, timeout)
		}
	})
	t.Run("slow but complete body, handler outlives the timeout", func(t *testing.T) {
		c := dialBody(t, addr, 5*time.Second)
		body := toolCall("echo")
		if _, err := io.WriteString(c, "POST /mcp HTTP/1.1\r\nHost: x\r\n"+auth+"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:10]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(timeout / 3)
		if _, err := io.WriteString(c, body[10:]); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(got) != body {
			t.Fatalf("status %d body %q", resp.StatusCode, got)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.bodies.mu.Lock()
		idle := g.bodies.head == nil && !g.bodies.running
		g.bodies.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("reads still registered, or the watch still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dialBody connects to addr, closed at t's end, with a read deadline of
// read from now.
func dialBody(t *testing.T, addr string, read time.Duration) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(read))
	return c
}

// TestBoundBodyReadsBehindOpaqueWriter: when a middleware outside
// BoundBodyReads wraps the ResponseWriter without Unwrap, the read
// deadline cannot be set (http.ResponseController answers
// ErrNotSupported), and BoundBodyReads changed nothing, silently: on a
// server without ReadTimeout a body read past the timeout was served, and
// one trickling without end held the handler and its connection, with
// nothing logged. It now fails closed as the Guard's own read does (the
// read is watched and fails with a timeout at its next byte or end), and
// one Warn per handler says why and how to fix it. A body read in time is
// served and keeps its connection.
func TestBoundBodyReadsBehindOpaqueWriter(t *testing.T) {
	const timeout, tick = 300 * time.Millisecond, 50 * time.Millisecond
	var mu sync.Mutex
	var logs bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("read error %v, want a timeout", err)
			}
			http.Error(w, "slow body", http.StatusBadRequest)
			return
		}
		_, _ = w.Write(b)
	})
	bounded := boundBodyReads(mux, BodyReadConfig{Timeout: timeout, Logger: slog.New(slog.NewTextHandler(syncWriter{&mu, &logs}, nil))}, tick)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bounded.ServeHTTP(opaqueWriter{w}, r) // a middleware outside, without Unwrap
	})) // no ReadTimeout
	srv.Config.ReadHeaderTimeout = 5 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	body := strings.Repeat("x", 64)
	tests := []struct {
		name      string
		length    int           // declared
		pause     time.Duration // after the first byte, before the rest
		trickle   bool          // then a byte every tick until the answer comes
		want      int
		wantClose bool
	}{
		{"body in time", len(body), timeout / 3, false, http.StatusOK, false},
		{"rest after the timeout", len(body), 2 * timeout, false, http.StatusBadRequest, false},
		{"never-ending body", 1 << 20, 0, true, http.StatusBadRequest, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialBody(t, addr, 10*timeout) // the old code: no answer
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			start := time.Now()
			if _, err := io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(tc.length)+"\r\n\r\n"+body[:1]); err != nil {
				t.Fatal(err)
			}
			answered := make(chan struct{})
			sent := make(chan struct{})
			go func() { // the rest of the body, after the pause; or a byte every tick
				defer close(sent)
				select {
				case <-time.After(tc.pause):
				case <-answered:
					return
				}
				if !tc.trickle {
					_, _ = io.WriteString(c, body[1:])
					return
				}
				for i := 0; i < 1000; i++ { // well past the read deadline above
					if _, err := io.WriteString(c, "x"); err != nil {
						return // refused and closed
					}
					select {
					case <-time.After(tick):
					case <-answered:
						return
					}
				}
			}()
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			close(answered)
			<-sent
			checkAnswer(t, resp, err, start, tc.want, body)
			if resp.StatusCode == http.StatusBadRequest {
				if d := time.Since(start); d < timeout-tick {
					t.Errorf("refused after %v, before the timeout %v", d, timeout)
				}
			}
			if resp.Close != tc.wantClose {
				t.Fatalf("Connection: close %v, want %v", resp.Close, tc.wantClose)
			}
			if tc.wantClose { // and closed: no timeout on the next read
				if _, err := br.ReadByte(); errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("connection still open: %v", err)
				}
			}
		})
	}
	warns := deadlineWarns(&mu, &logs)
	if len(warns) != 1 || !strings.Contains(warns[0], "outside core.BoundBodyReads") || !strings.Contains(warns[0], "Unwrap") ||
		!strings.Contains(warns[0], "ReadTimeout") || !strings.Contains(warns[0], "opaqueWriter") {
		t.Fatalf("Warn lines: %q, want one naming BoundBodyReads, the writer's type, Unwrap and ReadTimeout", warns)
	}
}

// TestBoundBodyReadsNestedKeepsEarlierDeadline: a BoundBodyReads inside
// another (authserver.Server bounds its own routes; an operator wraps the
// whole server with a shorter timeout) set its own deadline over the
// outer one, so a longer inner timeout lengthened the outer bound: a body
// that never came held the connection for the inner timeout. The earlier
// deadline is kept, whichever sets it.
func TestBoundBodyReadsNestedKeepsEarlierDeadline(t *testing.T) {
	t.Parallel()
	const short, long = 300 * time.Millisecond, 10 * time.Second
	live := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	for _, tc := range []struct {
		name         string
		outer, inner time.Duration
	}{
		{"inner longer", short, long},
		{"inner shorter", long, short},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := boundBodyReads(boundBodyReads(live, BodyReadConfig{Timeout: tc.inner}, bodyWatchTick), BodyReadConfig{Timeout: tc.outer}, bodyWatchTick)
			srv := httptest.NewUnstartedServer(h) // no ReadTimeout
			srv.Config.ReadHeaderTimeout = 5 * time.Second
			srv.Start()
			t.Cleanup(srv.Close)
			c := dialBody(t, strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
			if _, err := io.WriteString(c, "POST /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := io.Copy(io.Discard, c); err != nil {
				t.Fatalf("connection still held after %v: %v", time.Since(start), err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("connection held %v, the earlier deadline is %v", d, short)
			}
		})
	}
}
