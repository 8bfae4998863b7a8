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
	"sync/atomic"
	"testing"
	"time"
)

// fakeTicker is a watchTicker the test drives with tick.
type fakeTicker struct {
	c       chan struct{} // one tick
	done    chan struct{} // the previous tick's pass is over, the watch waits again
	stopped chan struct{}
	ticked  bool
}

func (t *fakeTicker) wait() {
	if t.ticked {
		t.done <- struct{}{}
	}
	t.ticked = true
	<-t.c
}

func (t *fakeTicker) stop() { close(t.stopped) }

// tick delivers one tick and returns once the watch's pass over it is
// over: true when the watch waits for the next tick, false when it
// stopped.
func (t *fakeTicker) tick(tb testing.TB) bool {
	tb.Helper()
	t.c <- struct{}{}
	select {
	case <-t.done:
		return true
	case <-t.stopped:
		return false
	case <-time.After(10 * time.Second):
		tb.Fatal("the watch's pass did not end")
		return false
	}
}

// cutWriter records the read deadlines http.ResponseController sets.
type cutWriter struct {
	http.ResponseWriter
	mu  sync.Mutex
	cut []time.Time
}

func (w *cutWriter) SetReadDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cut = append(w.cut, t)
	return nil
}

func (w *cutWriter) cuts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.cut)
}

// TestBodyWatchArming drives a bodyWatch through its clock and ticker
// seams, without wall time: a burst of short reads within one tick starts
// one goroutine and one ticker, which stop at the first tick that finds
// nothing registered; a slow read after a long idle period starts a new
// one and is cut at the first tick at or past its timeout, not before;
// a read that ended is never cut, even when it began before a cut one.
func TestBodyWatchArming(t *testing.T) {
	const timeout, tick = 30 * time.Second, time.Second
	var clock atomic.Int64 // nanoseconds since base
	base := time.Unix(1_000_000, 0)
	tickers := make(chan *fakeTicker, 10)
	var made atomic.Int32
	bw := &bodyWatch{
		timeout: timeout, tick: tick,
		now: func() time.Time { return base.Add(time.Duration(clock.Load())) },
		ticker: func(d time.Duration) watchTicker {
			if d != tick {
				t.Errorf("ticker of %v, want %v", d, tick)
			}
			made.Add(1)
			ft := &fakeTicker{c: make(chan struct{}), done: make(chan struct{}), stopped: make(chan struct{})}
			tickers <- ft
			return ft
		},
	}
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	running := func() bool {
		bw.mu.Lock()
		defer bw.mu.Unlock()
		return bw.running
	}
	stops := func(ft *fakeTicker) {
		t.Helper()
		if ft.tick(t) {
			t.Fatal("the watch still runs")
		}
		if running() {
			t.Fatal("stopped ticker, but the watch still counts as running")
		}
	}
	w := &cutWriter{ResponseWriter: httptest.NewRecorder()}

	// A burst of 1000 short reads, all within one tick.
	var entries [8]watchedRead
	for i := range 1000 {
		e := &entries[i%len(entries)]
		bw.add(e, w)
		advance(time.Millisecond)
		bw.remove(e)
	}
	ft := <-tickers
	if n := made.Load(); n != 1 {
		t.Fatalf("a burst of reads made %d tickers, want 1", n)
	}
	stops(ft) // the first tick finds nothing registered

	// Idle for an hour, then a slow read and a short one beside it.
	advance(time.Hour)
	var slow, short watchedRead
	bw.add(&short, w)
	bw.add(&slow, w)
	bw.remove(&short)
	ft = <-tickers
	if n := made.Load(); n != 2 {
		t.Fatalf("%d tickers after the idle period, want 2", n)
	}
	advance(timeout - tick/2)
	if !ft.tick(t) || w.cuts() != 0 { // before the timeout: nothing is cut
		t.Fatalf("%d reads cut before the timeout", w.cuts())
	}
	advance(tick / 2)
	stops(ft) // at the timeout: the slow read is cut, the watch stops
	if n := w.cuts(); n != 1 || !w.cut[0].Before(base) {
		t.Fatalf("cuts %v, want one read deadline in the past", w.cut)
	}
	if slow.w != nil || short.w != nil || bw.head != nil || bw.tail != nil {
		t.Fatal("reads still registered")
	}
	bw.remove(&slow) // the read returns after its cut: a no-op
	if made.Load() != 2 {
		t.Fatalf("%d tickers, want 2", made.Load())
	}
}

// TestWatchTickerTicks: the platform's ticker (a timerfd on Linux) wakes
// its waiter every tick and releases its descriptor on stop.
func TestWatchTickerTicks(t *testing.T) {
	const d = 20 * time.Millisecond
	tk := newWatchTicker(d)
	start := time.Now()
	for range 3 {
		tk.wait()
	}
	tk.stop()
	if el := time.Since(start); el < 3*d-d/2 || el > 10*time.Second {
		t.Fatalf("3 ticks of %v took %v", d, el)
	}
}

// opaqueWriter is a middleware's ResponseWriter wrapper without Unwrap:
// http.ResponseController cannot reach the connection's SetReadDeadline
// through it (ErrNotSupported).
type opaqueWriter struct{ http.ResponseWriter }

// TestServeBoundsSlowBodiesBehindOpaqueWriter (review-11 item 2): when a
// middleware outside the Guard wraps the ResponseWriter without Unwrap,
// the watch cannot cut a slow body (SetReadDeadline answers
// ErrNotSupported), and the error was ignored: on a server without
// ReadTimeout, a body that took far past the timeout was still read and
// the request served. The read now fails closed: once the timeout has
// passed it returns a timeout error as soon as a byte or the end arrives,
// so the Guard refuses (400) and closes; a body that arrives in time is
// served; and one Warn per Guard says why and how to fix it, without a
// header value.
func TestServeBoundsSlowBodiesBehindOpaqueWriter(t *testing.T) {
	const timeout, tick = 300 * time.Millisecond, 50 * time.Millisecond
	var mu sync.Mutex
	var logs bytes.Buffer
	g := newGuard(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(syncWriter{&mu, &logs}, nil))
	})
	g.bodies.timeout, g.bodies.tick = timeout, tick
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.Serve(opaqueWriter{w}, r, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			_, _ = w.Write(b)
		})
	})) // no ReadTimeout
	srv.Config.ReadHeaderTimeout = 5 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	auth := "Authorization: Bearer " + tokAlice + "\r\nMcp-Protocol-Version: 2025-11-25\r\n"
	body := toolCall("echo")
	tests := []struct {
		name    string
		pause   time.Duration // after the first 10 bytes
		trickle bool          // the rest one byte at a time, then
		want    int
	}{
		{"body in time", timeout / 3, false, http.StatusOK},
		{"rest after the timeout", 2 * timeout, false, http.StatusBadRequest},
		{"trickle past the timeout", 0, true, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, "POST /mcp HTTP/1.1\r\nHost: x\r\n"+auth+"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:10]); err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.pause)
			start := time.Now()
			rest := body[10:]
			if tc.trickle { // a byte every tick until the answer comes (or the body is sent)
				for len(rest) > 1 && time.Since(start) < 3*timeout {
					if _, err := io.WriteString(c, rest[:1]); err != nil {
						break // refused and closed
					}
					rest = rest[1:]
					time.Sleep(tick)
				}
			}
			_, _ = io.WriteString(c, rest)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			checkAnswer(t, resp, err, start, tc.want, body)
			if tc.want != http.StatusOK && !resp.Close {
				t.Error("refused, but the connection is kept")
			}
		})
	}
	warns := deadlineWarns(&mu, &logs)
	if len(warns) != 1 || !strings.Contains(warns[0], "Unwrap") || !strings.Contains(warns[0], "ReadTimeout") || strings.Contains(warns[0], tokAlice) {
		t.Fatalf("Warn lines about the read deadline: %q, want one naming Unwrap and ReadTimeout, without a header value", warns)
	}
}

// checkAnswer fails t unless the answer read (resp, err) has status want
// and, when that is 200, the body want200.
func checkAnswer(t *testing.T, resp *http.Response, err error, start time.Time, want int, want200 string) {
	t.Helper()
	if err != nil {
		t.Fatalf("no answer after %v: %v", time.Since(start), err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("status %d (%q), want %d", resp.StatusCode, got, want)
	}
	if want == http.StatusOK && string(got) != want200 {
		t.Fatalf("body %q", got)
	}
}

// deadlineWarns returns the Warn lines about the read deadline in logs
// (written under mu).
func deadlineWarns(mu *sync.Mutex, logs *bytes.Buffer) []string {
	mu.Lock()
	defer mu.Unlock()
	var warns []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "read deadline") {
			warns = append(warns, l)
		}
	}
	return warns
}

// TestBodyWatchEndedReadNotCut (review-11 item 3), on the clock and ticker
// seams: a read whose body returned its end is not cut by a tick that
// comes before its unregistering (the deferred remove in ReadBody). Such
// a cut set the connection's read deadline in the past after net/http had
// started its background read at the body's end, which then failed and
// cancelled the request's context. The end is now marked before Read
// returns it. A read still going at the tick is cut (or, when the
// deadline cannot be set, fails at its next Read).
func TestBodyWatchEndedReadNotCut(t *testing.T) {
	const timeout, tick = 30 * time.Second, time.Second
	tests := []struct {
		name     string
		ended    bool // the body returned its end before the tick
		opaque   bool // the deadline cannot be set
		wantCuts int
		wantErr  error // of the read after the tick, when not ended
	}{
		{"ended before the tick", true, false, 0, nil},
		{"ended before the tick, opaque writer", true, true, 0, nil},
		{"going at the tick", false, false, 1, os.ErrDeadlineExceeded},
		{"going at the tick, opaque writer", false, true, 0, os.ErrDeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var clock atomic.Int64
			base := time.Unix(1_000_000, 0)
			tickers := make(chan *fakeTicker, 1)
			bw := &bodyWatch{
				timeout: timeout, tick: tick,
				now: func() time.Time { return base.Add(time.Duration(clock.Load())) },
				ticker: func(time.Duration) watchTicker {
					ft := &fakeTicker{c: make(chan struct{}), done: make(chan struct{}), stopped: make(chan struct{})}
					tickers <- ft
					return ft
				},
			}
			cw := &cutWriter{ResponseWriter: httptest.NewRecorder()}
			var w http.ResponseWriter = cw
			if tc.opaque {
				w = opaqueWriter{cw}
			}
			const body = `{"jsonrpc":"2.0","id":1,"method":"ping"}`
			r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
			hb := &httpBody{w: w, r: r, watch: bw}
			bw.add(&hb.entry, w) // as ReadBody does
			ft := <-tickers
			buf := make([]byte, 8)
			if tc.ended {
				b, err := ReadBody(hb, 1<<10, nil)
				if err != nil || string(b) != body {
					t.Fatalf("ReadBody = %q, %v", b, err)
				}
			} else { // the first bytes only
				if _, err := hb.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			clock.Add(int64(timeout))
			if ft.tick(t) { // the only read is unregistered at this tick
				t.Fatal("the watch still runs")
			}
			if n := cw.cuts(); n != tc.wantCuts {
				t.Fatalf("%d cuts, want %d", n, tc.wantCuts)
			}
			if !tc.ended {
				if _, err := hb.Read(buf); !errors.Is(err, tc.wantErr) {
					t.Fatalf("read after the tick: %v, want %v", err, tc.wantErr)
				}
			}
			bw.remove(&hb.entry)
			if bw.head != nil || hb.entry.w != nil {
				t.Fatal("read still registered")
			}
		})
	}
}

// TestRefusalBehindOpaqueWriterWarns: a request refused before its body
// was read gets "Connection: close" and a short read deadline, so that
// net/http's drain of the unread body after the handler (body.Close, up
// to 256 KiB, with no deadline on a server without ReadTimeout) ends.
// Behind a wrapper without Unwrap the deadline cannot be set, and nothing
// else can end that drain (the wrapper hides Hijack too): a body that
// never comes holds the connection until the client closes it. The
// refusal ignored the error; it now logs the watch's one Warn per Guard,
// as a body read does, so the missing bound is seen before a slow body
// shows it. With ReadTimeout set, which bounds the drain, nothing is
// logged.
func TestRefusalBehindOpaqueWriterWarns(t *testing.T) {
	for _, tc := range []struct {
		name        string
		readTimeout time.Duration
		warns       int
	}{
		{"no ReadTimeout", 0, 1},
		{"ReadTimeout", time.Minute, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var logs bytes.Buffer
			g := newGuard(t, func(c *Config) {
				c.Logger = slog.New(slog.NewTextHandler(syncWriter{&mu, &logs}, nil))
			})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				g.Serve(opaqueWriter{w}, r, func(w http.ResponseWriter, r *http.Request) { t.Error("served") })
			}))
			srv.Config.ReadHeaderTimeout, srv.Config.ReadTimeout = 5*time.Second, tc.readTimeout
			srv.Start()
			t.Cleanup(srv.Close)
			for range 2 { // one Warn per Guard
				c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				// No token: refused before the body is read; 10 of 100 bytes sent.
				if _, err := io.WriteString(c, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n0123456789"); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				c.Close()
				if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
					t.Fatalf("status %d, close %v; want 401 and the connection closed", resp.StatusCode, resp.Close)
				}
			}
			if warns := deadlineWarns(&mu, &logs); len(warns) != tc.warns || tc.warns > 0 && !strings.Contains(warns[0], "Unwrap") {
				t.Fatalf("Warn lines about the read deadline: %q, want %d naming Unwrap", warns, tc.warns)
			}
		})
	}
}
