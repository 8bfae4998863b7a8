package core

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// newWatchTicker returns a ticker on a non-blocking timerfd, which the
// goroutine waits on in the network poller: no runtime timer is pending
// between ticks (see [bodyWatch]). When the timerfd cannot be made (out of
// descriptors) it returns a time.Ticker.
func newWatchTicker(d time.Duration) watchTicker {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimeTicker(d)
	}
	ts := unix.NsecToTimespec(int64(d))
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil); err != nil {
		_ = unix.Close(fd)
		return newTimeTicker(d)
	}
	return &fdTicker{f: os.NewFile(uintptr(fd), "bodywatch-timerfd"), d: d}
}

// fdTicker is a watchTicker on a timerfd.
type fdTicker struct {
	f   *os.File
	d   time.Duration
	buf [8]byte // the expiration count, which is not needed
}

// wait reads the timerfd's expiration count, parking the goroutine in the
// poller until the next tick. Should the read ever fail it sleeps one
// tick instead, so the watch keeps cutting.
func (t *fdTicker) wait() {
	if _, err := t.f.Read(t.buf[:]); err != nil {
		time.Sleep(t.d)
	}
}

func (t *fdTicker) stop() { _ = t.f.Close() }
