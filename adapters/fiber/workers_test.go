package fibermcp

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// job is a streamWriter that runs f as its handler.
func job(f func()) *streamWriter {
	return &streamWriter{
		h:      http.HandlerFunc(func(http.ResponseWriter, *http.Request) { f() }),
		r:      httptest.NewRequest(http.MethodGet, "/", nil),
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		resp:   new(fasthttp.Response),
		header: http.Header{},
		ready:  make(chan struct{}),
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWorkersReuseBoundAndIdleExit: sequential requests run on one parked
// goroutine; concurrent ones start at most max workers (the rest run on
// goroutines of their own, and all complete); workers parked for a whole
// idle interval end, and the janitor with them.
func TestWorkersReuseBoundAndIdleExit(t *testing.T) {
	// Reuse: a pool whose idle interval no pause of a loaded machine
	// reaches, so that its janitor cannot end the parked worker between
	// two requests (it may, with a short interval, and a second worker is
	// then right, not a failure to reuse).
	reuse := newWorkers(4, time.Hour)
	for range 20 {
		w := job(func() {})
		reuse.run(w)
		<-w.ready
		waitFor(t, "the worker to park", func() bool { return reuse.park.Load() == reuse.live.Load() })
	}
	if n := reuse.live.Load(); n != 1 {
		t.Errorf("%d workers after 20 sequential requests, want 1", n)
	}

	p := newWorkers(4, 100*time.Millisecond)

	release := make(chan struct{})
	var started sync.WaitGroup
	ws := make([]*streamWriter, 10)
	for i := range ws {
		started.Add(1)
		ws[i] = job(func() { started.Done(); <-release })
		p.run(ws[i])
	}
	started.Wait() // all 10 run at once
	if n := p.live.Load(); n != 4 {
		t.Errorf("%d workers with 10 requests in flight, want the bound 4", n)
	}
	close(release)
	for _, w := range ws {
		<-w.ready
	}
	waitFor(t, "the workers to end after idling", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.live.Load() == 0 && !p.alive
	})

	// The pool starts again after it emptied.
	w := job(func() {})
	p.run(w)
	<-w.ready
	waitFor(t, "the restarted pool to empty", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.live.Load() == 0 && !p.alive
	})
}

// TestWorkersKeepBusyWorkers: a worker in use through a janitor tick is
// not ended, and one parked only part of an interval stays.
func TestWorkersKeepBusyWorkers(t *testing.T) {
	const idle = 100 * time.Millisecond
	p := newWorkers(4, idle)
	stop := time.Now().Add(4 * idle)
	for time.Now().Before(stop) { // one request every idle/5: never idle a whole interval
		w := job(func() {})
		p.run(w)
		<-w.ready
		time.Sleep(idle / 5)
		if n := p.live.Load(); n == 0 {
			t.Fatal("the worker ended while requests kept coming")
		}
	}
	waitFor(t, "the worker to end", func() bool { return p.live.Load() == 0 })
}
