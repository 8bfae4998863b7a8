package core

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// bodyWatchTick is how often a [bodyWatch] looks for body reads past their
// timeout: a slow body is cut between timeout and timeout + tick after its
// read began.
const bodyWatchTick = time.Second

// bodyWatch bounds [Guard.Serve]'s body reads on a server without
// ReadTimeout without a read deadline per request. Setting and lifting a
// connection deadline around every read costs two runtime timer updates
// (and, when the network poller sleeps, a wake-up) per request; instead a
// read registers here (a lock and a list link, no allocation: the entry is
// in the pooled scratch) and one goroutine per Guard, running only while
// reads are registered, wakes every tick and cuts the reads older than
// timeout by setting their connection's read deadline in the past. Reads
// are unregistered under the same lock, and a read marks its end
// (watchedRead.state) before its reader returns it, so a read that has
// ended is never cut, even when its unregistering comes after a tick.
// (What remains is the few instructions between the end inside the
// body's Read, where net/http starts its background read, and the mark.)
//
// When the deadline cannot be set (a middleware outside the Guard wraps
// the ResponseWriter without Unwrap: http.ResponseController answers
// ErrNotSupported), nothing can interrupt the blocked read: the request
// holds no other way to its connection (Hijack is hidden by the same
// wrapper, and closing the body waits for the read). The read fails
// closed instead: it is marked expired, and its reader returns
// errBodyTimeout as soon as a byte or the end arrives, so the Guard
// refuses it with the answer of a cut read; and the watch logs one Warn
// per Guard naming the fix.
//
// The goroutine is started when a read registers and none runs, and ends
// at the first tick that finds no read registered: a burst of reads
// within one tick starts it (and its ticker) once. On Linux the tick comes
// from a timerfd read through the network poller, not from a runtime
// timer (watchticker_linux.go): while any runtime timer is pending, the
// scheduler reads the clock on every scheduling decision, about 20 times
// per go-sdk request, and with steady traffic the watch would keep one
// pending all the time.
type bodyWatch struct {
	timeout, tick time.Duration
	// now and ticker are test seams; nil means time.Now and
	// newWatchTicker.
	now    func() time.Time
	ticker func(time.Duration) watchTicker
	log    *slog.Logger // the owner's; nil logs nothing
	owner  string       // what registers the reads, as the Warn names it
	warned atomic.Bool  // the Warn about a deadline that cannot be set was written

	mu         sync.Mutex
	head, tail *watchedRead // oldest first: reads register in start order
	running    bool         // the ticking goroutine runs
}

// watchTicker wakes a bodyWatch's goroutine every tick.
type watchTicker interface {
	wait() // blocks until the next tick
	stop()
}

// watchedRead is one registered body read.
type watchedRead struct {
	prev, next *watchedRead
	start      time.Time
	w          http.ResponseWriter // nil when not registered
	// state is readActive, then either readEnded (set by the reader when
	// the body's Read returns an error or its end, before it returns it)
	// or readExpired (set by the watch when it cuts the read): whichever
	// comes first. An ended read is not cut; an expired one fails.
	state atomic.Uint32
}

// watchedRead states.
const (
	readActive uint32 = iota
	readEnded
	readExpired
)

// errBodyTimeout is what a read the watch expired returns at its next
// Read when its connection's deadline could not be set.
var errBodyTimeout = fmt.Errorf("core: request body not read within the body read timeout: %w", os.ErrDeadlineExceeded)

func (bw *bodyWatch) clock() time.Time {
	if bw.now != nil {
		return bw.now()
	}
	return time.Now()
}

// add registers e, the read of w's request body starting now.
func (bw *bodyWatch) add(e *watchedRead, w http.ResponseWriter) {
	e.start = bw.clock()
	e.state.Store(readActive)
	bw.mu.Lock()
	e.w, e.prev, e.next = w, bw.tail, nil
	if bw.tail != nil {
		bw.tail.next = e
	} else {
		bw.head = e
	}
	bw.tail = e
	if !bw.running {
		bw.running = true
		go bw.run()
	}
	bw.mu.Unlock()
}

// remove unregisters e (a no-op when it was cut already).
func (bw *bodyWatch) remove(e *watchedRead) {
	bw.mu.Lock()
	if e.w != nil {
		bw.unlink(e)
	}
	bw.mu.Unlock()
}

func (bw *bodyWatch) unlink(e *watchedRead) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		bw.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		bw.tail = e.prev
	}
	e.prev, e.next, e.w = nil, nil, nil
}

// run cuts the reads past the timeout every tick, and ends when none is
// registered.
func (bw *bodyWatch) run() {
	newTicker := bw.ticker
	if newTicker == nil {
		newTicker = newWatchTicker
	}
	t := newTicker(bw.tick)
	defer t.stop()
	for {
		t.wait()
		now := bw.clock()
		var opaque http.ResponseWriter // one whose deadline cannot be set, to warn about
		var opaqueErr error
		bw.mu.Lock()
		for e := bw.head; e != nil && now.Sub(e.start) >= bw.timeout; e = bw.head {
			w := e.w
			bw.unlink(e)
			if !e.state.CompareAndSwap(readActive, readExpired) {
				continue // ended: the body is in, and the connection reads on
			}
			// The read returns a timeout error; Serve answers and closes.
			// Without a deadline it returns errBodyTimeout at its next Read.
			if err := http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0)); err != nil && opaque == nil {
				opaque, opaqueErr = w, err
			}
		}
		stop := bw.head == nil
		if stop {
			bw.running = false
		}
		bw.mu.Unlock()
		if opaque != nil {
			bw.warnOpaque(opaque, opaqueErr)
		}
		if stop {
			return
		}
	}
}

// warnOpaque logs, once per watch, that the read deadline of w's request
// could not be set (err).
func (bw *bodyWatch) warnOpaque(w http.ResponseWriter, err error) {
	if bw.log == nil || bw.warned.Swap(true) {
		return
	}
	bw.log.Warn("core: cannot set the read deadline of a request body: a middleware outside "+bw.owner+" wraps the ResponseWriter without Unwrap, "+
		"so a slow body is refused only when a byte or its end arrives past the body read timeout, and one that never comes holds its connection; "+
		"give the wrapper an Unwrap method returning the ResponseWriter it wraps, put it inside "+bw.owner+", or set http.Server.ReadTimeout",
		"writer", fmt.Sprintf("%T", w), "err", err)
}

// read reads body into p for the registered read e. The read's end (an
// error or EOF) is marked before it is returned, so that a tick between
// it and the unregistering does not cut a read that is over (the cut
// would fail net/http's background read, which starts at the body's end,
// and cancel the request's context). A read the watch expired fails,
// whatever the body returned: its deadline could not be set.
func (e *watchedRead) read(body io.Reader, p []byte) (int, error) {
	n, err := body.Read(p)
	if err != nil && e.state.CompareAndSwap(readActive, readEnded) {
		return n, err
	}
	if e.state.Load() == readExpired {
		return 0, errBodyTimeout
	}
	return n, err
}

// timeTicker is the portable watchTicker: a time.Ticker.
type timeTicker struct{ t *time.Ticker }

func newTimeTicker(d time.Duration) watchTicker { return timeTicker{time.NewTicker(d)} }

func (t timeTicker) wait() { <-t.t.C }
func (t timeTicker) stop() { t.t.Stop() }
