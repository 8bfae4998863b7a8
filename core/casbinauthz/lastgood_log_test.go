package casbinauthz

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// A last-good file that keeps failing to be written the same way (a full
// volume: every attempt names a new temporary file) is logged once, not on
// every reload or poll; after a success a new failure is logged again.
func TestLastGoodWriteErrorLoggedOnce(t *testing.T) {
	t.Parallel()
	logs := &testkit.Buffer{}
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource(lgPolicyA),
		LastGoodPath: filepath.Join(t.TempDir(), "lastgood"), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	attempt, failing := 0, true // the write hook's, under a.lg.mu or with no write in flight
	lockLastGoodIdle(t, a)
	a.lg.write = func(path string, b []byte) error {
		attempt++
		if failing {
			return &fs.PathError{Op: "write", Path: fmt.Sprintf("%s.tmp-%d", path, attempt), Err: syscall.ENOSPC}
		}
		return writeFileAtomic(path, b)
	}
	a.lg.savedAt = a.lg.savedAt.Add(-24 * 365 * 3600e9) // due for a rewrite
	a.lg.mu.Unlock()
	const msg = "writing the last-good policy file failed"
	for i := range 5 {
		if err := a.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		lastGoodIdle(t, a)
		if a.Stats().LastGoodError == "" {
			t.Fatalf("reload %d: the failed write is not reported", i)
		}
	}
	if attempt < 5 {
		t.Fatalf("%d write attempts for 5 reloads", attempt)
	}
	if n := strings.Count(logs.String(), msg); n != 1 {
		t.Fatalf("the failing write was logged %d times over %d attempts, want once:\n%s", n, attempt, logs.String())
	}
	lockLastGoodIdle(t, a)
	failing = false
	a.lg.mu.Unlock()
	err = a.Reload(context.Background())
	lastGoodIdle(t, a)
	if err != nil || a.Stats().LastGoodError != "" {
		t.Fatalf("after the volume recovered: %v %+v", err, a.Stats())
	}
	lockLastGoodIdle(t, a)
	failing = true
	a.lg.savedAt = a.lg.savedAt.Add(-24 * 365 * 3600e9)
	a.lg.mu.Unlock()
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	lastGoodIdle(t, a)
	if n := strings.Count(logs.String(), msg); n != 2 {
		t.Fatalf("a new failure after a success was logged %d times in all, want 2", n)
	}
}
