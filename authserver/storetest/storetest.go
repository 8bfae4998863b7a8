// Package storetest holds the contract tests of the authorization server's
// pluggable stores, run against the in-memory implementations in this
// module and against the shared ones (stores/redis): one suite, so every
// implementation gives the same answers. It also holds Upstream, a
// loopback OpenID provider for the broker's login flows across replicas.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/internal/replicas"
)

// RunRefreshStoreSuite runs the [authserver.RefreshStore] contract against
// stores made by newStore. Stores made for one *testing.T must share their
// state (replicas of one backend) and start empty: each subtest calls
// newStore twice and expects what one store did to hold on the other.
//
//   - Save, then Rotate returns the family with LastUsed as it was, and
//     makes the next generation the only valid token; Peek returns the
//     family of the current token and changes nothing (an older
//     generation: ErrRefreshReused);
//   - a token of one of the [authserver.RefreshReuseGenerations] older
//     generations, with its secret, revokes the family (ErrRefreshReused)
//     and its current token stops working, on every replica; a future
//     generation, a wrong secret (of any generation) or an older
//     generation than the store remembers is ErrRefreshUnknown and
//     revokes nothing;
//   - of concurrent rotations of one token exactly one wins;
//   - unknown handles are ErrRefreshUnknown; a family id or a handle cannot
//     be saved twice;
//   - RevokeFamily and RevokeSubject (all clients or one) end families;
//   - the family's claims survive the store with their JSON values;
//   - a subject is capped at the default [authserver.RefreshLimits]
//     (families and bytes): at the cap a new family is saved and the
//     subject's least recently used family of the same client, else of any
//     client, is revoked; other subjects are untouched; concurrent saves on
//     both replicas never leave more than the cap.
func RunRefreshStoreSuite(t *testing.T, newStore func(t *testing.T) authserver.RefreshStore) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	// tk is the token of generation gen of the family with handle h; sec
	// its secret hash.
	tk := func(h string, gen uint64) authserver.RefreshToken {
		return authserver.RefreshToken{Handle: h, Generation: gen, SecretHash: "secret-" + h + "-" + strconv.FormatUint(gen, 10)}
	}
	sec := func(h string, gen uint64) string { return tk(h, gen).SecretHash }
	fam := func(id, client, subject string) authserver.RefreshFamily {
		return authserver.RefreshFamily{
			ID: id, ClientID: client, Subject: subject, Resource: "https://mcp.example.com/mcp",
			Scopes:  []string{"mcp:tools", "mcp:resources:read"},
			Extra:   map[string]any{"idp_iss": "https://idp.example.com", "auth_time": 1800000000, "amr": []string{"pwd", "mfa"}},
			Created: now, LastUsed: now,
		}
	}
	t.Run("rotate", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		f := fam("fam-rotate", "app", "alice")
		if err := a.Save(ctx, tk("h", 1), f); err != nil {
			t.Fatal(err)
		}
		if err := b.Save(ctx, tk("h-other", 1), f); err == nil {
			t.Fatal("a family id was saved twice")
		}
		if err := b.Save(ctx, tk("h", 1), fam("fam-rotate-2", "app", "alice")); err == nil {
			t.Fatal("a handle was saved twice")
		}
		if got, err := b.Peek(ctx, tk("h", 1)); err != nil || got.ID != f.ID || !got.LastUsed.Equal(now) {
			t.Fatalf("Peek before the rotation: %+v %v", got, err)
		}
		for name, bad := range map[string]authserver.RefreshToken{
			"unknown handle": tk("nope", 1), "future generation": tk("h", 2),
			"wrong secret": {Handle: "h", Generation: 1, SecretHash: "guess"},
		} {
			if _, err := b.Peek(ctx, bad); !errors.Is(err, authserver.ErrRefreshUnknown) {
				t.Fatalf("Peek of a token with an %s: %v", name, err)
			}
			if _, err := a.Rotate(ctx, bad, "x", now); !errors.Is(err, authserver.ErrRefreshUnknown) {
				t.Fatalf("Rotate of a token with an %s: %v", name, err)
			}
		}
		got, err := b.Rotate(ctx, tk("h", 1), sec("h", 2), now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != f.ID || got.ClientID != "app" || got.Subject != "alice" || got.Resource != f.Resource ||
			len(got.Scopes) != 2 || got.Scopes[1] != "mcp:resources:read" || !got.Created.Equal(now) || !got.LastUsed.Equal(now) {
			t.Fatalf("family after the store: %+v", got)
		}
		want, _ := json.Marshal(f.Extra)
		if js, _ := json.Marshal(got.Extra); string(js) != string(want) {
			t.Fatalf("claims after the store: %s, want %s", js, want)
		}
		got, err = a.Rotate(ctx, tk("h", 2), sec("h", 3), now.Add(2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastUsed.Equal(now.Add(time.Minute)) {
			t.Fatalf("LastUsed %v, want the previous rotation's time", got.LastUsed)
		}
		// Peek of an older generation reports the reuse and changes nothing.
		if _, err := b.Peek(ctx, tk("h", 2)); !errors.Is(err, authserver.ErrRefreshReused) {
			t.Fatalf("Peek of a rotated token: %v", err)
		}
		if got, err := b.Peek(ctx, tk("h", 3)); err != nil || !got.LastUsed.Equal(now.Add(2*time.Minute)) {
			t.Fatalf("Peek after a Peek of a rotated token: %+v %v", got, err)
		}
	})
	t.Run("reuse revokes the family on every replica", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		if err := a.Save(ctx, tk("r", 1), fam("fam-reuse", "app", "bob")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Rotate(ctx, tk("r", 1), sec("r", 2), now); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Rotate(ctx, tk("r", 1), "evil", now); !errors.Is(err, authserver.ErrRefreshReused) {
			t.Fatalf("reuse of a rotated token: %v, want ErrRefreshReused", err)
		}
		for _, tok := range []authserver.RefreshToken{tk("r", 2), {Handle: "r", Generation: 2, SecretHash: "evil"}, tk("r", 1)} {
			if _, err := a.Rotate(ctx, tok, "next", now); err == nil {
				t.Fatalf("token %+v still works after the family was revoked", tok)
			}
		}
	})
	t.Run("an older generation is a reuse only with its secret", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		if err := a.Save(ctx, tk("g", 1), fam("fam-gen", "app", "gus")); err != nil {
			t.Fatal(err)
		}
		const rotations = 40
		for g := uint64(1); g <= rotations; g++ {
			if _, err := replicas.Pick(int(g), a, b).Rotate(ctx, tk("g", g), sec("g", g+1), now); err != nil {
				t.Fatal(err)
			}
		}
		cur := tk("g", rotations+1)
		oldest := rotations + 1 - authserver.RefreshReuseGenerations // the oldest generation still verifiable
		// Who knows only the handle cannot end the family: an older
		// generation with a wrong secret, or one older than the store
		// remembers, is unknown and revokes nothing.
		for name, bad := range map[string]authserver.RefreshToken{
			"previous generation, wrong secret":    {Handle: "g", Generation: rotations, SecretHash: "guess"},
			"oldest kept generation, wrong secret": {Handle: "g", Generation: uint64(oldest), SecretHash: "guess"},
			"generation 1, wrong secret":           {Handle: "g", Generation: 1, SecretHash: "guess"},
			"generation 1, its secret":             tk("g", 1),
			"generation too old, its secret":       tk("g", uint64(oldest-1)),
			"previous generation, empty secret":    {Handle: "g", Generation: rotations},
		} {
			if _, err := b.Peek(ctx, bad); !errors.Is(err, authserver.ErrRefreshUnknown) {
				t.Fatalf("Peek of %s: %v, want ErrRefreshUnknown", name, err)
			}
			if _, err := a.Rotate(ctx, bad, "evil", now); !errors.Is(err, authserver.ErrRefreshUnknown) {
				t.Fatalf("Rotate of %s: %v, want ErrRefreshUnknown", name, err)
			}
			if _, err := b.Peek(ctx, cur); err != nil {
				t.Fatalf("current token after %s: %v", name, err)
			}
		}
		// An older generation presented with its own secret is a reuse.
		if _, err := b.Peek(ctx, tk("g", uint64(oldest))); !errors.Is(err, authserver.ErrRefreshReused) {
			t.Fatalf("Peek of generation %d after %d rotations: %v, want ErrRefreshReused", oldest, rotations, err)
		}
		if _, err := b.Rotate(ctx, tk("g", uint64(oldest)), "evil", now); !errors.Is(err, authserver.ErrRefreshReused) {
			t.Fatalf("generation %d after %d rotations: %v, want ErrRefreshReused", oldest, rotations, err)
		}
		if _, err := a.Peek(ctx, cur); !errors.Is(err, authserver.ErrRefreshUnknown) {
			t.Fatalf("current token after the reuse: %v", err)
		}
	})
	t.Run("concurrent rotations", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		if err := a.Save(ctx, tk("c", 1), fam("fam-race", "app", "carol")); err != nil {
			t.Fatal(err)
		}
		var wins, reused atomic.Int32
		replicas.Concurrently(50, a, b, func(i int, s authserver.RefreshStore) {
			_, err := s.Rotate(ctx, tk("c", 1), "c2-"+strconv.Itoa(i), now)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, authserver.ErrRefreshReused), errors.Is(err, authserver.ErrRefreshUnknown):
				reused.Add(1)
			default:
				t.Error(err)
			}
		})
		if wins.Load() != 1 || reused.Load() != 49 {
			t.Fatalf("wins=%d refused=%d, want 1 and 49", wins.Load(), reused.Load())
		}
	})
	t.Run("revoke", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		for i, f := range []authserver.RefreshFamily{
			fam("fam-d1", "app", "dave"), fam("fam-d2", "other", "dave"), fam("fam-d3", "app", "dave"), fam("fam-e1", "app", "erin"),
		} {
			if err := a.Save(ctx, tk("d"+strconv.Itoa(i), 1), f); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.RevokeFamily(ctx, "fam-d3"); err != nil {
			t.Fatal(err)
		}
		if err := b.RevokeFamily(ctx, "no-such-family"); err != nil {
			t.Fatalf("unknown family: %v", err)
		}
		if err := b.RevokeSubject(ctx, "dave", "app"); err != nil {
			t.Fatal(err)
		}
		alive := map[string]bool{"d0": false, "d1": true, "d2": false, "d3": true}
		for h, want := range alive {
			_, err := a.Rotate(ctx, tk(h, 1), sec(h, 2), now)
			if (err == nil) != want {
				t.Errorf("token %s after revocations: %v, want alive=%v", h, err, want)
			}
		}
		if err := b.RevokeSubject(ctx, "dave", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Rotate(ctx, tk("d1", 2), sec("d1", 3), now); !errors.Is(err, authserver.ErrRefreshUnknown) {
			t.Errorf("dave's other client after RevokeSubject(all): %v", err)
		}
		if _, err := a.Rotate(ctx, tk("d3", 2), sec("d3", 3), now); err != nil {
			t.Errorf("erin's family: %v", err)
		}
	})
	t.Run("per-subject family cap", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		n := authserver.DefaultRefreshFamiliesPerSubject
		at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Second) }
		save := func(s authserver.RefreshStore, h, id, client string, used time.Time) {
			t.Helper()
			f := fam(id, client, "sam")
			f.LastUsed = used
			if err := s.Save(ctx, tk(h, 1), f); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			save(a, "cap"+strconv.Itoa(i), "fam-cap"+strconv.Itoa(i), "app", at(i))
		}
		if err := a.Save(ctx, tk("tess", 1), fam("fam-tess", "app", "tess")); err != nil {
			t.Fatal(err)
		}
		// cap0 is in use: it becomes the most recently used.
		if _, err := b.Rotate(ctx, tk("cap0", 1), sec("cap0", 2), at(3600)); err != nil {
			t.Fatal(err)
		}
		alive := func(h string) bool {
			t.Helper()
			gen := uint64(1)
			if h == "cap0-next" {
				h, gen = "cap0", 2
			}
			_, err := a.Peek(ctx, tk(h, gen))
			if err != nil && !errors.Is(err, authserver.ErrRefreshUnknown) {
				t.Fatalf("Peek %s: %v", h, err)
			}
			return err == nil
		}
		// A new login of the same client at the cap: saved, and the least
		// recently used family (cap1, not the busy cap0) is revoked.
		save(b, "new-app", "fam-new-app", "app", at(4000))
		if alive("cap1") || !alive("cap0-next") || !alive("new-app") || !alive("cap2") || !alive("tess") {
			t.Fatal("the cap did not revoke exactly the least recently used family")
		}
		// A client without a family there: the least recently used of any
		// client goes (cap2).
		save(a, "ide1", "fam-ide1", "ide", at(4001))
		if alive("cap2") || !alive("ide1") || !alive("cap3") {
			t.Fatal("a new client's login did not revoke the subject's least recently used family")
		}
		// That client again: its own older family goes, not cap3 (older
		// but another client's).
		save(b, "ide2", "fam-ide2", "ide", at(4002))
		if alive("ide1") || !alive("ide2") || !alive("cap3") {
			t.Fatal("a client's new login revoked another client's family instead of its own")
		}
		count := 0
		for _, h := range append([]string{"cap0-next", "new-app", "ide2"}, func() (hs []string) {
			for i := 3; i < n; i++ {
				hs = append(hs, "cap"+strconv.Itoa(i))
			}
			return hs
		}()...) {
			if alive(h) {
				count++
			}
		}
		if count != n {
			t.Fatalf("%d families alive, want the cap %d", count, n)
		}
	})
	t.Run("a busy client cannot push out other clients' families", func(t *testing.T) {
		// A client the user approved once (a dynamically registered one,
		// say) replays silent logins and rotates its families often. When
		// another client of that user logs in at the cap, the busy client
		// loses a family, not the user's idle ones.
		a, b := newStore(t), newStore(t)
		n := authserver.DefaultRefreshFamiliesPerSubject
		save := func(s authserver.RefreshStore, h, id, client string, used time.Time) {
			t.Helper()
			f := fam(id, client, "vic")
			f.LastUsed = used
			if err := s.Save(ctx, tk(h, 1), f); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 4 {
			save(a, "idle"+strconv.Itoa(i), "fam-idle"+strconv.Itoa(i), "legit"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Second))
		}
		for i := 4; i < n; i++ {
			save(b, "busy"+strconv.Itoa(i), "fam-busy"+strconv.Itoa(i), "busy", now.Add(time.Hour+time.Duration(i)*time.Second))
		}
		alive := func(h string) bool {
			t.Helper()
			_, err := b.Peek(ctx, tk(h, 1))
			if err != nil && !errors.Is(err, authserver.ErrRefreshUnknown) {
				t.Fatalf("Peek %s: %v", h, err)
			}
			return err == nil
		}
		for i := range 3 {
			save(a, "new"+strconv.Itoa(i), "fam-new"+strconv.Itoa(i), "other"+strconv.Itoa(i), now.Add(2*time.Hour+time.Duration(i)*time.Second))
			if !alive("new" + strconv.Itoa(i)) {
				t.Fatalf("login %d not saved", i)
			}
			if alive("busy" + strconv.Itoa(4+i)) {
				t.Errorf("login %d: the busy client's least recently used family was kept", i)
			}
		}
		for i := range 4 {
			if !alive("idle" + strconv.Itoa(i)) {
				t.Errorf("the idle family of legit%d was revoked for another client's login while a client held %d families", i, n-4)
			}
		}
	})
	t.Run("per-subject byte cap", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		big := func(i int) authserver.RefreshFamily {
			f := fam("fam-big"+strconv.Itoa(i), "app", "bea")
			f.Extra = map[string]any{"blob": strings.Repeat("x", 60<<10)}
			f.LastUsed = now.Add(time.Duration(i) * time.Second)
			return f
		}
		size, err := authserver.RefreshFamilySize(big(0))
		if err != nil {
			t.Fatal(err)
		}
		fit := authserver.DefaultRefreshBytesPerSubject / size
		for i := range fit + 2 {
			if err := replicas.Pick(i, a, b).Save(ctx, tk("big"+strconv.Itoa(i), 1), big(i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range fit + 2 {
			_, err := b.Peek(ctx, tk("big"+strconv.Itoa(i), 1))
			if want := i >= 2; (err == nil) != want {
				t.Errorf("family %d of %d bytes (%d fit): %v, want alive=%v", i, size, fit, err, want)
			}
		}
	})
	t.Run("concurrent saves of one subject", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		n := authserver.DefaultRefreshFamiliesPerSubject
		replicas.Concurrently(3*n, a, b, func(i int, s authserver.RefreshStore) {
			f := fam("fam-cc"+strconv.Itoa(i), "app", "cat")
			f.LastUsed = now.Add(time.Duration(i) * time.Millisecond)
			if err := s.Save(ctx, tk("cc"+strconv.Itoa(i), 1), f); err != nil {
				t.Error(err)
			}
		})
		count := 0
		for i := range 3 * n {
			if _, err := a.Peek(ctx, tk("cc"+strconv.Itoa(i), 1)); err == nil {
				count++
			}
		}
		if count != n {
			t.Fatalf("%d families alive after concurrent saves, want the cap %d", count, n)
		}
	})
}
