package redisstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/storetest"
	"github.com/mcpauthz/mcpauthz/core"
)

// prefixPerTest gives the stores of one subtest (replicas) one prefix,
// and every subtest its own.
func prefixPerTest(name string) func(t *testing.T) string {
	var mu sync.Mutex
	prefixes := map[*testing.T]string{}
	return func(t *testing.T) string {
		mu.Lock()
		defer mu.Unlock()
		p, ok := prefixes[t]
		if !ok {
			p = "{" + name + strconv.Itoa(len(prefixes)) + "}:"
			prefixes[t] = p
		}
		return p
	}
}

// The Redis client and consent stores pass the contracts the in-memory
// ones pass; the two stores of a subtest are replicas: own client, same
// Redis.
func TestClientStoreContract(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	prefix := prefixPerTest("dcr")
	storetest.RunClientStoreSuite(t, func(t *testing.T, b storetest.ClientStoreBounds) authserver.ClientStore {
		s, err := NewClientStore(ClientConfig{Config: Config{Client: srv.patient(t), Prefix: prefix(t), Timeout: patientTimeout}, MaxBytes: b.MaxBytes, IdleLifetime: b.IdleLifetime, MaxPerSubject: b.MaxPerSubject})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConsentStoreContract(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	prefix := prefixPerTest("cons")
	storetest.RunConsentStoreSuite(t, func(t *testing.T) authserver.ConsentStore {
		s, err := NewConsentStore(ConsentConfig{Config: Config{Client: srv.patient(t), Prefix: prefix(t), Timeout: patientTimeout}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestAuthStoresBounded: the client store's byte count and the consent
// store's entries stay within their bounds in Redis itself, and one
// consent entry keeps at most MaxConsentGrants members.
func TestAuthStoresBounded(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	// It checks bounds, not latency: the patient client and a long
	// per-call Timeout keep a loaded machine from failing a call.
	rc := srv.patient(t)
	cs, err := NewClientStore(ClientConfig{Config: Config{Client: rc, Timeout: 20 * time.Second}, MaxBytes: 20 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		c := authserver.RegisteredClient{ID: "dcr-b" + strconv.Itoa(i), AuthMethod: authserver.AuthNone,
			GrantTypes: []string{authserver.GrantAuthorizationCode}, RedirectURIs: []string{"http://127.0.0.1/cb"}}
		if err := cs.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := rc.Get(ctx, DefaultPrefix+"dcr:bytes").Int64()
	keys, _ := rc.Keys(ctx, DefaultPrefix+"dcr:*").Result()
	if n <= 0 || n > 20<<10 || len(keys) > 4+(20<<10)/clientOverhead {
		t.Fatalf("client store holds %d counted bytes in %d keys under a 20 KiB bound", n, len(keys))
	}
	cons, err := NewConsentStore(ConsentConfig{Config: Config{Client: rc, Timeout: 20 * time.Second}, MaxEntries: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if err := cons.Remember(ctx, authserver.Consent{Subject: "u" + strconv.Itoa(i), ClientID: "app", Resource: "r", Scopes: []string{"a"}}); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ = rc.Keys(ctx, DefaultPrefix+"cons:*").Result()
	if len(keys) != 5+1 {
		t.Fatalf("%d consent keys under a bound of 5 entries", len(keys)-1)
	}
	if ok, _ := cons.Covers(ctx, authserver.Consent{Subject: "u29", ClientID: "app", Resource: "r", Scopes: []string{"a"}}); !ok {
		t.Fatal("the newest consent was evicted")
	}
	for i := range 3 * authserver.MaxConsentGrants {
		if err := cons.Remember(ctx, authserver.Consent{Subject: "many", ClientID: "app", Resource: "r", Scopes: []string{strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := rc.SCard(ctx, cons.keys("many", "app")[0]).Result(); m > authserver.MaxConsentGrants {
		t.Fatalf("one consent entry holds %d grants", m)
	}
	// Garbage under a client's key is refused, never guessed at.
	if err := rc.Set(ctx, cs.keys("dcr-garbage")[0], "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Client(ctx, "dcr-garbage"); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("garbage record: %v", err)
	}
	if err := rc.HSet(ctx, cons.keys("wrong", "type")[0], "x", "y").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := cons.Covers(ctx, authserver.Consent{Subject: "wrong", ClientID: "type", Resource: "r"}); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("wrong key type: %v", err)
	}
}

// TestAuthStoresOutage: Redis down fails closed within the timeout, and
// everything works again when it is back.
func TestAuthStoresOutage(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	cs, err := NewClientStore(ClientConfig{Config: Config{Client: srv.client(t)}})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := NewConsentStore(ConsentConfig{Config: Config{Client: srv.client(t)}})
	if err != nil {
		t.Fatal(err)
	}
	reg := authserver.RegisteredClient{ID: "dcr-out", AuthMethod: authserver.AuthNone,
		GrantTypes: []string{authserver.GrantAuthorizationCode}, RedirectURIs: []string{"http://127.0.0.1/cb"}}
	if err := cs.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	consent := authserver.Consent{Subject: "dave", ClientID: "dcr-out", Resource: "r", Scopes: []string{"a"}}
	if err := cons.Remember(ctx, consent); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ops := map[string]func() error{
		"register": func() error { r := reg; r.ID = "dcr-new"; return cs.Register(ctx, r) },
		"client":   func() error { _, err := cs.Client(ctx, reg.ID); return err },
		"used":     func() error { return cs.MarkUsed(ctx, reg.ID, "user") },
		"covers":   func() error { _, err := cons.Covers(ctx, consent); return err },
		"remember": func() error { return cons.Remember(ctx, consent) },
		"revoke":   func() error { _, err := cons.Revoke(ctx, "dave", "dcr-out"); return err },
		"ready":    func() error { return errors.Join(cs.Ready(ctx), cons.Ready(ctx)) },
	}
	for name, op := range ops {
		start := time.Now()
		if err := op(); !errors.Is(err, core.ErrStoreUnavailable) {
			t.Errorf("%s while down: %v", name, err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("%s took %v while down", name, el)
		}
	}
	srv.restart(t) // and waits for the clients to reconnect
	// redistest restarts with its data directory: what was stored is back.
	if _, err := cs.Client(ctx, reg.ID); err != nil && !errors.Is(err, authserver.ErrClientUnknown) {
		t.Fatalf("after restart: %v", err)
	}
	if _, err := cons.Covers(ctx, consent); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	r := reg
	r.ID = "dcr-after"
	if err := cs.Register(ctx, r); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
