package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/internal/replicas"
)

// ClientStoreBounds are the bounds RunClientStoreSuite asks a store for.
type ClientStoreBounds struct {
	MaxBytes      int64         // the store's byte bound
	IdleLifetime  time.Duration // the store's idle lifetime
	MaxPerSubject int           // clients one subject's uses protect; 0: the store's default
}

// RunClientStoreSuite runs the [authserver.ClientStore] contract against
// stores made by newStore with the bounds given. Stores made for one
// *testing.T must share their state (replicas of one backend) and start
// empty. Clients of this suite cost between 600 and 1,200 bytes each,
// however the store counts them.
//
//   - a client registered at one replica is returned, field for field, by
//     another; unknown ids are ErrClientUnknown; an id cannot be registered
//     twice;
//   - concurrent registrations at both replicas are all kept;
//   - a full store evicts the oldest client that never completed a login
//     (MarkUsed), never a used one; full of used clients it returns
//     ErrRegistrationFull;
//   - a client without a use (MarkUsed) for the idle lifetime is forgotten,
//     even when looked up; MarkUsed at any replica keeps it (the suite sleeps about 1.8 s);
//   - one subject's uses protect at most MaxPerSubject clients: a subject
//     that uses more cannot fill the store (registration keeps working,
//     evicting its older ones), and another subject's used client stays.
func RunClientStoreSuite(t *testing.T, newStore func(t *testing.T, b ClientStoreBounds) authserver.ClientStore) {
	t.Helper()
	ctx := context.Background()
	big := ClientStoreBounds{MaxBytes: 1 << 20, IdleLifetime: time.Hour}
	t.Run("shared", func(t *testing.T) {
		a, b := newStore(t, big), newStore(t, big)
		c := suiteClient("dcr-shared", true)
		if err := a.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := b.Client(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.IssuedAt.Equal(c.IssuedAt) {
			t.Fatalf("IssuedAt %v, want %v", got.IssuedAt, c.IssuedAt)
		}
		got.IssuedAt = c.IssuedAt
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("client after the store:\n%+v\nwant\n%+v", got, c)
		}
		if err := b.Register(ctx, c); err == nil {
			t.Fatal("a client id was registered twice")
		}
		if _, err := a.Client(ctx, "dcr-unknown"); !errors.Is(err, authserver.ErrClientUnknown) {
			t.Fatalf("unknown client: %v", err)
		}
		if err := a.MarkUsed(ctx, "dcr-unknown", "user"); err != nil {
			t.Fatalf("MarkUsed of an unknown client: %v", err)
		}
		pub := suiteClient("dcr-public", false)
		if err := b.Register(ctx, pub); err != nil {
			t.Fatal(err)
		}
		if got, err := a.Client(ctx, pub.ID); err != nil || got.SecretHash != "" || got.AuthMethod != authserver.AuthNone {
			t.Fatalf("public client: %+v %v", got, err)
		}
	})
	t.Run("concurrent registrations", func(t *testing.T) {
		a, b := newStore(t, big), newStore(t, big)
		replicas.Concurrently(40, a, b, func(i int, s authserver.ClientStore) {
			if err := s.Register(ctx, suiteClient("dcr-c"+strconv.Itoa(i), false)); err != nil {
				t.Error(err)
			}
		})
		for i := range 40 {
			if _, err := a.Client(ctx, "dcr-c"+strconv.Itoa(i)); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		}
	})
	t.Run("eviction", func(t *testing.T) {
		bounds := ClientStoreBounds{MaxBytes: 8 << 10, IdleLifetime: time.Hour}
		a, b := newStore(t, bounds), newStore(t, bounds)
		// Unused clients make room for new ones, the oldest first.
		for i := range 40 {
			if err := replicas.Pick(i, a, b).Register(ctx, suiteClient(fmt.Sprintf("dcr-e%02d", i), false)); err != nil {
				t.Fatalf("registration %d with unused clients to evict: %v", i, err)
			}
		}
		var live []string
		for i := range 40 {
			id := fmt.Sprintf("dcr-e%02d", i)
			if _, err := b.Client(ctx, id); err == nil {
				live = append(live, id)
			} else if !errors.Is(err, authserver.ErrClientUnknown) {
				t.Fatal(err)
			}
		}
		if len(live) < 6 || len(live) > 14 || live[len(live)-1] != "dcr-e39" || live[0] == "dcr-e00" {
			t.Fatalf("kept %v of 40 under 8 KiB; want the newest 6 to 14", live)
		}
		// Used clients are never evicted: the store fills up.
		for _, id := range live {
			if err := a.MarkUsed(ctx, id, "user-"+id); err != nil {
				t.Fatal(err)
			}
		}
		full := false
		for i := 0; i < 40 && !full; i++ {
			err := b.Register(ctx, suiteClient(fmt.Sprintf("dcr-f%02d", i), false))
			switch {
			case errors.Is(err, authserver.ErrRegistrationFull):
				full = true
			case err != nil:
				t.Fatal(err)
			default:
				_ = b.MarkUsed(ctx, fmt.Sprintf("dcr-f%02d", i), fmt.Sprintf("user-f%02d", i))
			}
		}
		if !full {
			t.Fatal("a store full of used clients kept registering")
		}
		for _, id := range live {
			if _, err := a.Client(ctx, id); err != nil {
				t.Fatalf("used client %s evicted: %v", id, err)
			}
		}
	})
	t.Run("per-subject cap", func(t *testing.T) {
		bounds := ClientStoreBounds{MaxBytes: 8 << 10, IdleLifetime: time.Hour, MaxPerSubject: 3}
		a, b := newStore(t, bounds), newStore(t, bounds)
		if err := a.Register(ctx, suiteClient("dcr-alice", false)); err != nil {
			t.Fatal(err)
		}
		if err := b.MarkUsed(ctx, "dcr-alice", "alice"); err != nil {
			t.Fatal(err)
		}
		// One insider registers and uses 40 clients, far more than 8 KiB
		// holds: only its last 3 stay protected, so registration never
		// fills up with them.
		for i := range 40 {
			s, o := a, b
			if i%2 == 1 {
				s, o = b, a
			}
			id := fmt.Sprintf("dcr-i%02d", i)
			if err := s.Register(ctx, suiteClient(id, false)); err != nil {
				t.Fatalf("registration %d after one subject used %d clients: %v", i, i, err)
			}
			if err := o.MarkUsed(ctx, id, "insider"); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"dcr-alice", "dcr-i37", "dcr-i38", "dcr-i39"} {
			if _, err := a.Client(ctx, id); err != nil {
				t.Fatalf("protected client %s evicted: %v", id, err)
			}
		}
		if _, err := b.Client(ctx, "dcr-i00"); !errors.Is(err, authserver.ErrClientUnknown) {
			t.Fatalf("the insider's oldest client is still protected: %v", err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		const idle = 1500 * time.Millisecond
		bounds := ClientStoreBounds{MaxBytes: 1 << 20, IdleLifetime: idle}
		a, b := newStore(t, bounds), newStore(t, bounds)
		// An attempt decides only when the machine kept time: a lookup
		// must find a client when it ended less than idle after the
		// client's last use began, and must not when it began idle or more
		// after that use ended. A loaded machine gets three attempts.
		for attempt := range 3 {
			kept, gone := fmt.Sprintf("dcr-kept%d", attempt), fmt.Sprintf("dcr-idle%d", attempt)
			start := time.Now()
			for _, id := range []string{kept, gone} {
				if err := a.Register(ctx, suiteClient(id, false)); err != nil {
					t.Fatal(err)
				}
			}
			registered := time.Now()
			time.Sleep(idle * 6 / 10)
			before1 := time.Now()
			err1 := b.MarkUsed(ctx, kept, "user")
			_, errLook := b.Client(ctx, gone) // a lookup is not a use
			after1 := time.Now()
			time.Sleep(idle * 6 / 10)
			before2 := time.Now()
			_, err2 := a.Client(ctx, kept)
			_, err3 := a.Client(ctx, gone)
			after2 := time.Now()
			if after1.Sub(start) >= idle || after2.Sub(before1) >= idle {
				t.Logf("attempt %d: the machine slept too long to decide", attempt)
				continue
			}
			if err1 != nil || errLook != nil || err2 != nil {
				t.Fatalf("client used within its idle lifetime: %v %v %v", err1, errLook, err2)
			}
			if before2.Sub(registered) >= idle && !errors.Is(err3, authserver.ErrClientUnknown) {
				t.Fatalf("a client only looked up outlived its idle lifetime: %v", err3)
			}
			return
		}
		t.Fatal("three attempts without keeping time: the machine is too loaded for this test")
	})
}

// suiteClient is a registration of 600 to 1,200 bytes.
func suiteClient(id string, confidential bool) authserver.RegisteredClient {
	c := authserver.RegisteredClient{
		ID: id, AuthMethod: authserver.AuthNone,
		GrantTypes:   []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken},
		Scopes:       []string{"mcp:tools", "mcp:resources:read"},
		RedirectURIs: []string{"http://127.0.0.1/callback", "https://app.example.com/oauth/" + strings.Repeat("p", 40)},
		Name:         "Agent \u00e9 " + id,
		IssuedAt:     time.Unix(1_800_000_000, 0).UTC(),
	}
	if confidential {
		c.AuthMethod = authserver.AuthClientSecretBasic
		h, err := authserver.HashSecret("secret-" + id + "-0123456789")
		if err != nil {
			panic(err)
		}
		c.SecretHash = h
	}
	return c
}
