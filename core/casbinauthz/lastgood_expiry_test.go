package casbinauthz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestLastGoodExpiresAtRuntime: a replica that booted from its last-good
// file while the Source is down stops deciding once the file reaches
// LastGoodMaxAge with the Source still down (every decision 503, Ready
// says why, logged at error level), and decides again as soon as a load
// from the Source succeeds. A replica that reached its Source before the
// deadline is not affected. Before, the age was checked only at boot, so
// the first replica kept enforcing the file's policy indefinitely.
func TestLastGoodExpiresAtRuntime(t *testing.T) {
	t.Parallel()
	mdl := mustModel(t, "rbac")
	const maxAge = time.Hour
	const left = 400 * time.Millisecond
	writeFile := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "policy.lastgood")
		b := encodeLastGood([]byte(lgPolicyA), sha256.Sum256([]byte(lgPolicyA)), sha256.Sum256([]byte(mdl)), time.Now().Add(-maxAge+left))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ctx := context.Background()

	t.Run("source stays down", func(t *testing.T) {
		t.Parallel()
		var logs bytes.Buffer
		var mu sync.Mutex
		logged := func() string { mu.Lock(); defer mu.Unlock(); return logs.String() }
		src := &switchSource{text: lgPolicyA, down: true}
		a, err := New(Config{Model: mdl, Source: src, LastGoodPath: writeFile(t), LastGoodMaxAge: maxAge, Logger: slog.New(slog.NewTextHandler(&lockedWriter{&logs, &mu}, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lastGoodIdle(t, a) }) // the Reload's write, before TempDir's removal
		if !allowed(t, a, "alice", "deploy") {
			t.Fatal("the last-good policy does not decide before its deadline")
		}
		deadline := time.Now().Add(left + 5*time.Second)
		for {
			_, err := a.Authorize(ctx, user("alice"), tool("deploy"))
			if errors.Is(err, core.ErrUnavailable) {
				break
			}
			if err != nil || time.Now().After(deadline) {
				t.Fatalf("still deciding with the expired last-good policy: %v, stats %+v", err, a.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := a.Ready(ctx); !errors.Is(err, core.ErrUnavailable) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("Ready after expiry: %v", err)
		}
		if st := a.Stats(); !strings.Contains(st.Degraded, "expired") {
			t.Fatalf("Stats.Degraded after expiry: %q", st.Degraded)
		}
		for !strings.Contains(logged(), "LAST-GOOD POLICY EXPIRED") { // logged just after the drop
			if time.Now().After(deadline) {
				t.Fatalf("expiry not logged:\n%s", logged())
			}
			time.Sleep(10 * time.Millisecond)
		}
		src.set(lgPolicyA, false)
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if !allowed(t, a, "alice", "deploy") || a.Ready(ctx) != nil || a.Stats().Degraded != "" {
			t.Fatalf("not recovered after the Source returned: %+v", a.Stats())
		}
	})

	t.Run("source reached before the deadline", func(t *testing.T) {
		t.Parallel()
		src := &switchSource{text: lgPolicyA, down: true}
		a, err := New(Config{Model: mdl, Source: src, LastGoodPath: writeFile(t), LastGoodMaxAge: maxAge})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lastGoodIdle(t, a) }) // the Reload's write, before TempDir's removal
		src.set(lgPolicyA, false)
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(left + 200*time.Millisecond)
		if !allowed(t, a, "alice", "deploy") || a.Ready(ctx) != nil {
			t.Fatalf("a replica that reached its Source was expired: %+v", a.Stats())
		}
	})
}
