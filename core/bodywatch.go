package core

import (
	"net/http"
	"sync"
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
// reads are registered, ticks every bodyWatchTick and cuts the reads older
// than timeout by setting their connection's read deadline in the past.
// Reads are unregistered under the same lock, so a read that has ended
// is never cut.
type bodyWatch struct {
	timeout, tick time.Duration
	mu            sync.Mutex
	head, tail    *watchedRead // oldest first: reads register in start order
	running       bool         // the ticking goroutine runs
}

// watchedRead is one registered body read.
type watchedRead struct {
	prev, next *watchedRead
	start      time.Time
	w          http.ResponseWriter // nil when not registered
}

// add registers e, the read of w's request body starting now.
func (bw *bodyWatch) add(e *watchedRead, w http.ResponseWriter) {
	e.start = time.Now()
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
	t := time.NewTicker(bw.tick)
	defer t.Stop()
	for now := range t.C {
		bw.mu.Lock()
		for e := bw.head; e != nil && now.Sub(e.start) >= bw.timeout; e = bw.head {
			w := e.w
			bw.unlink(e)
			// The read returns a timeout error; Serve answers and closes.
			_ = http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
		}
		if bw.head == nil {
			bw.running = false
			bw.mu.Unlock()
			return
		}
		bw.mu.Unlock()
	}
}
