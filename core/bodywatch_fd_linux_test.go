package core

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"
)

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestBodyWatchBurstsReleaseTimerfd: every burst starts a goroutine and a
// timerfd that end at the first empty tick; 200 bursts leave neither an
// open descriptor nor a goroutine behind. The collector is off: an
// unclosed os.File's finalizer would otherwise hide the leak.
func TestBodyWatchBurstsReleaseTimerfd(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	bw := &bodyWatch{timeout: time.Hour, tick: time.Millisecond}
	idle := func() bool {
		bw.mu.Lock()
		defer bw.mu.Unlock()
		return !bw.running
	}
	waitIdle := func() {
		for i := 0; !idle(); i++ {
			if i > 10000 {
				t.Fatal("the watch did not stop")
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitIdle()
	fds, gs := openFDs(t), runtime.NumGoroutine()
	w := httptest.NewRecorder()
	for range 200 {
		var e watchedRead
		bw.add(&e, w)
		bw.remove(&e)
		waitIdle()
	}
	// The goroutine clears running before its deferred stop runs.
	var nfds, ngs int
	for i := 0; i < 1000; i++ {
		if nfds, ngs = openFDs(t), runtime.NumGoroutine(); nfds <= fds && ngs <= gs {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("after 200 bursts: %d -> %d descriptors, %d -> %d goroutines", fds, nfds, gs, ngs)
}

// TestWatchTickerWithoutDescriptors: with no descriptor left (EMFILE) the
// watch falls back to a runtime ticker that still ticks. Run in a child
// process, whose descriptor limit it lowers.
func TestWatchTickerWithoutDescriptors(t *testing.T) {
	if os.Getenv("CORE_WATCH_EMFILE") == "1" {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		lim.Cur = 64
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		var held []*os.File
		for {
			f, err := os.Open(os.DevNull)
			if err != nil {
				break
			}
			held = append(held, f)
		}
		tk := newWatchTicker(5 * time.Millisecond)
		if _, ok := tk.(timeTicker); !ok {
			t.Fatalf("out of descriptors: %T, want the runtime ticker", tk)
		}
		for range 3 {
			tk.wait()
		}
		tk.stop()
		for _, f := range held {
			_ = f.Close()
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestWatchTickerWithoutDescriptors$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CORE_WATCH_EMFILE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
