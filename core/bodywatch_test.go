package core

import (
	"net/http"
	"net/http/httptest"
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
