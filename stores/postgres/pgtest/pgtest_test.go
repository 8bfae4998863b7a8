package pgtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"
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
