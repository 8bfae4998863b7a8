package pgtest

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestStartIsThisRun: the server on the port serves this run's data
// directory, before and after a restart on the same port.
func TestStartIsThisRun(t *testing.T) {
	s := Start(t)
	want, err := filepath.EvalSymlinks(s.data())
	if err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{"start", "restart"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		dir, err := s.dataDirectory(ctx)
		cancel()
		if err != nil || dir != want {
			t.Fatalf("%s: data directory %q, %v; want %q", phase, dir, err, want)
		}
		if phase == "start" {
			s.Stop()
			s.Start()
		}
	}
}

// TestTakenPortRetried: the first port offered is held by a listener of
// ours (what another test's server would do); postgres fails to bind it,
// and the start is retried on a fresh port.
func TestTakenPortRetried(t *testing.T) {
	l := testkit.Listen(t) // what another process's server would hold
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	calls := 0
	s := start(t, func(t testing.TB) int {
		calls++
		if calls == 1 {
			return taken
		}
		return testkit.ReservePort(t)
	})
	if calls != 2 || s.port == taken {
		t.Fatalf("%d ports offered, server on %d (taken %d): the taken port was not retried", calls, s.port, taken)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.dataDirectory(ctx); err != nil {
		t.Fatal(err)
	}
}
