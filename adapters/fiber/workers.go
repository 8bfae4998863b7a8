package fibermcp

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxParkedWorkers bounds the goroutines a [HandlerWith] handler keeps
// parked between requests; a request that finds none parked while that
// many exist runs on a goroutine of its own, which ends with it.
const maxParkedWorkers = 128

// workerIdle is how long the pool must have had a worker parked without
// work, throughout, before that worker ends.
const workerIdle = 10 * time.Second

// workers runs the handlers of one [HandlerWith] handler on goroutines
// that stay parked between requests, instead of starting a goroutine per
// request: a go-sdk handler's deep calls grow a new goroutine's stack,
// copying it, on every request, while a reused goroutine keeps its stack.
//
// Idle workers end without a timer per request: a janitor, running while
// any worker lives, ticks every idle interval and ends as many workers as
// were parked throughout the last interval (the low-water mark of the
// parked count, which a worker lowers when it leaves the park).
type workers struct {
	jobs  chan *streamWriter // unbuffered: a send succeeds only to a parked worker
	quit  chan struct{}      // buffered: one token ends one parked worker
	max   int32
	idle  time.Duration
	live  atomic.Int32 // workers started and not ended
	park  atomic.Int32 // workers parked now
	low   atomic.Int32 // lowest park since the janitor's last tick
	mu    sync.Mutex   // guards janitor
	alive bool         // the janitor runs
}

func newWorkers(max int32, idle time.Duration) *workers {
	return &workers{jobs: make(chan *streamWriter), quit: make(chan struct{}, max), max: max, idle: idle}
}

// run serves w on a parked worker, a new worker or, when the pool is
// full and busy, a goroutine of its own.
func (p *workers) run(w *streamWriter) {
	select {
	case p.jobs <- w:
		return
	default:
	}
	if p.live.Add(1) > p.max {
		p.live.Add(-1)
		go w.serve()
		return
	}
	p.startJanitor()
	go p.work(w)
}

// unpark records that a parked worker left the park (for a job or to
// end), lowering the low-water mark.
func (p *workers) unpark() {
	n := p.park.Add(-1)
	for l := p.low.Load(); n < l && !p.low.CompareAndSwap(l, n); l = p.low.Load() {
	}
}

// work is one worker: it serves w, then parks until the next job or until
// the janitor ends it.
func (p *workers) work(w *streamWriter) {
	defer p.live.Add(-1)
	for {
		w.serve()
		w = nil // parked, it keeps no request alive
		p.park.Add(1)
		select {
		case w = <-p.jobs:
			p.unpark()
		case <-p.quit:
			p.unpark()
			return
		}
	}
}

// startJanitor starts the janitor unless it runs.
func (p *workers) startJanitor() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.alive {
		p.alive = true
		p.low.Store(p.park.Load())
		go p.janitor()
	}
}

// janitor ends, every idle interval, the workers that stayed parked all
// through it, and stops when no worker is left.
func (p *workers) janitor() {
	t := time.NewTicker(p.idle)
	defer t.Stop()
	for range t.C {
		for n := p.low.Swap(p.park.Load()); n > 0; n-- {
			select {
			case p.quit <- struct{}{}:
			default: // full: the tokens already queued end workers enough
			}
		}
		p.mu.Lock()
		if p.live.Load() == 0 {
			p.alive = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}
