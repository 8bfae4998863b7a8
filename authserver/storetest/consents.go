package storetest

import (
	"context"
	"strconv"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/internal/replicas"
)

// RunConsentStoreSuite runs the [authserver.ConsentStore] contract against
// stores made by newStore. Stores made for one *testing.T must share their
// state (replicas of one backend) and start empty.
//
//   - a consent remembered at one replica covers, at another, the same
//     resource with any subset of its scopes, and nothing more (other
//     scopes, resource, client or subject);
//   - consents to one client add up;
//   - a revocation at one replica is seen at the other, and reports
//     whether anything was remembered;
//   - subject and client id are kept apart whatever bytes they hold;
//   - concurrent consents at both replicas are all kept.
func RunConsentStoreSuite(t *testing.T, newStore func(t *testing.T) authserver.ConsentStore) {
	t.Helper()
	ctx := context.Background()
	const res = "https://mcp.example.com/mcp"
	covers := func(t *testing.T, s authserver.ConsentStore, sub, client, resource string, scopes ...string) bool {
		t.Helper()
		ok, err := s.Covers(ctx, authserver.Consent{Subject: sub, ClientID: client, Resource: resource, Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	remember := func(t *testing.T, s authserver.ConsentStore, sub, client, resource string, scopes ...string) {
		t.Helper()
		if err := s.Remember(ctx, authserver.Consent{Subject: sub, ClientID: client, Resource: resource, Scopes: scopes}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("covers", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		if covers(t, b, "dave", "app", res) {
			t.Fatal("covered before any consent")
		}
		remember(t, a, "dave", "app", res, "mcp:tools", "mcp:read")
		for _, tc := range []struct {
			sub, client, resource string
			scopes                []string
			want                  bool
		}{
			{"dave", "app", res, nil, true},
			{"dave", "app", res, []string{"mcp:read"}, true},
			{"dave", "app", res, []string{"mcp:tools", "mcp:read"}, true},
			{"dave", "app", res, []string{"mcp:tools", "mcp:admin"}, false},
			{"dave", "app", "https://other.example.com/mcp", nil, false},
			{"dave", "other-app", res, nil, false},
			{"erin", "app", res, nil, false},
		} {
			if got := covers(t, b, tc.sub, tc.client, tc.resource, tc.scopes...); got != tc.want {
				t.Errorf("%+v: covered=%v", tc, got)
			}
		}
		remember(t, b, "dave", "app", res, "mcp:admin")
		if !covers(t, a, "dave", "app", res, "mcp:tools", "mcp:admin") {
			t.Error("consents to one client do not add up")
		}
	})
	t.Run("revoke", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		remember(t, a, "dave", "app", res, "mcp:tools")
		remember(t, a, "dave", "other-app", res, "mcp:tools")
		if ok, err := b.Revoke(ctx, "dave", "app"); !ok || err != nil {
			t.Fatalf("revoke: %v %v", ok, err)
		}
		if covers(t, a, "dave", "app", res) {
			t.Fatal("a revoked consent still covers at the other replica")
		}
		if !covers(t, a, "dave", "other-app", res, "mcp:tools") {
			t.Fatal("revocation reached another client")
		}
		if ok, err := a.Revoke(ctx, "dave", "app"); ok || err != nil {
			t.Fatalf("second revoke: %v %v", ok, err)
		}
	})
	t.Run("keys apart", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		remember(t, a, "a\x00b", "c", res)
		if covers(t, b, "a", "b\x00c", res) {
			t.Fatal("subject and client id run together")
		}
		remember(t, a, "x\r\n*{}", "https://app.example.com/client.json", res)
		if !covers(t, b, "x\r\n*{}", "https://app.example.com/client.json", res) {
			t.Fatal("odd bytes in the subject")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		replicas.Concurrently(40, a, b, func(i int, s authserver.ConsentStore) {
			if err := s.Remember(ctx, authserver.Consent{Subject: "u" + strconv.Itoa(i%4), ClientID: "app", Resource: res, Scopes: []string{"s" + strconv.Itoa(i)}}); err != nil {
				t.Error(err)
			}
		})
		for i := range 40 {
			if !covers(t, a, "u"+strconv.Itoa(i%4), "app", res, "s"+strconv.Itoa(i)) {
				t.Errorf("consent %d lost", i)
			}
		}
	})
}
