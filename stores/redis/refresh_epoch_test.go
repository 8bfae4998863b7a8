package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// TestRefreshRollbackAfterRestartRefused: Redis restarted from an RDB
// snapshot taken before a rotation and a revocation has forgotten both: a
// family is back at its rotated-away generation, whose token (a stolen
// copy) would be current again, and a revoked family is alive. The
// master's new replication id gives it away: during the quarantine every
// rotation and peek answers a QuarantineError (503), on this replica and
// on one started after the restart; after it, every family written before
// the restart is refused as unknown and revoked, whatever the token's
// generation, while families saved after the restart rotate as usual.
func TestRefreshRollbackAfterRestartRefused(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	const q = 1500 * time.Millisecond
	ctx := context.Background()
	cfg := Config{Client: srv.client(t), Prefix: "{rollback}:"}
	s, err := NewRefreshStore(RefreshConfig{Config: cfg, Quarantine: q})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	fam := func(id string) authserver.RefreshFamily {
		return authserver.RefreshFamily{ID: id, ClientID: "app", Subject: "alice", Created: now, LastUsed: now}
	}
	for _, h := range []string{"rot", "rev", "legacy"} {
		if err := s.Save(ctx, rtok(h, 1), fam("f-"+h)); err != nil {
			t.Fatal(err)
		}
	}
	// An old format family (no epoch recorded) is refused too.
	if err := srv.client(t).HDel(ctx, s.key("rfam", "f-legacy"), "ep").Err(); err != nil {
		t.Fatal(err)
	}
	if err := srv.client(t).Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	// After the snapshot: "rot" rotates to generation 2 (the thief keeps
	// generation 1), "rev" is revoked. Both writes are lost below.
	if _, err := s.Rotate(ctx, rtok("rot", 1), rsec("rot", 2), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx, "f-rev"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	srv.Start() // loads the snapshot
	restarted := time.Now()
	if n, err := srv.client(t).Exists(ctx, s.key("rfam", "f-rot"), s.key("rfam", "f-rev")).Result(); err != nil || n != 2 {
		t.Fatalf("the snapshot was not loaded: %d families of 2, %v", n, err)
	}
	fresh, err := NewRefreshStore(RefreshConfig{Config: Config{Client: srv.client(t), Prefix: "{rollback}:"}, Quarantine: q})
	if err != nil {
		t.Fatal(err)
	}
	rotate := func(st *RefreshStore, h string, gen uint64) error {
		_, err := st.Rotate(ctx, rtok(h, gen), rsec(h, gen+1)+"-next", time.Now())
		return err
	}
	peek := func(st *RefreshStore, h string, gen uint64) error {
		_, err := st.Peek(ctx, rtok(h, gen))
		return err
	}
	uses := []struct {
		name string
		use  func() error
	}{
		{"rotate the rolled-back generation", func() error { return rotate(s, "rot", 1) }},
		{"peek the rolled-back generation", func() error { return peek(s, "rot", 1) }},
		{"rotate the generation issued before the restart", func() error { return rotate(s, "rot", 2) }},
		{"rotate the revoked family", func() error { return rotate(s, "rev", 1) }},
		{"replica started after, peek", func() error { return peek(fresh, "rot", 1) }},
		{"replica started after, rotate", func() error { return rotate(fresh, "rev", 1) }},
	}
	var until time.Time
	for _, u := range uses {
		err := u.use()
		var qe *QuarantineError
		if !errors.As(err, &qe) || !errors.Is(err, ErrQuarantine) || !errors.Is(err, core.ErrStoreUnavailable) {
			t.Fatalf("%s during the quarantine: %v, want a QuarantineError", u.name, err)
		}
		if d := qe.Until.Sub(restarted); d <= 0 || d > q+5*time.Second {
			t.Fatalf("%s: quarantine until %v, %v after the restart (quarantine %v)", u.name, qe.Until, d, q)
		}
		until = qe.Until
	}
	// Saving is no one-time use: a login during the quarantine gets its
	// family, stamped with the new epoch.
	if err := s.Save(ctx, rtok("new", 1), fam("f-new")); err != nil {
		t.Fatalf("save during the quarantine: %v", err)
	}
	time.Sleep(time.Until(until) + 20*time.Millisecond)
	for _, u := range []struct {
		name string
		use  func() error
	}{
		{"peek the rolled-back generation", func() error { return peek(s, "rot", 1) }},
		{"rotate the rolled-back generation", func() error { return rotate(s, "rot", 1) }},
		{"rotate the generation issued before the restart", func() error { return rotate(s, "rot", 2) }},
		{"peek the revoked family", func() error { return peek(fresh, "rev", 1) }},
		{"rotate the old format family", func() error { return rotate(s, "legacy", 1) }},
	} {
		if err := u.use(); !errors.Is(err, authserver.ErrRefreshUnknown) {
			t.Fatalf("%s after the quarantine: %v, want ErrRefreshUnknown", u.name, err)
		}
	}
	if n, err := srv.client(t).Exists(ctx, s.key("rfam", "f-rot"), s.key("rfam", "f-rev"), s.key("rfam", "f-legacy"), s.key("rh", "rot")).Result(); err != nil || n != 0 {
		t.Fatalf("%d keys of the families from before the restart left, want them revoked (%v)", n, err)
	}
	if err := rotate(fresh, "new", 1); err != nil {
		t.Fatalf("family saved after the restart: %v", err)
	}
	if err := s.Save(ctx, rtok("post", 1), fam("f-post")); err != nil {
		t.Fatal(err)
	}
	if err := rotate(s, "post", 1); err != nil {
		t.Fatalf("family saved after the quarantine: %v", err)
	}
}
