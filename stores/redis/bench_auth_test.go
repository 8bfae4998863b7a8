package redisstore

import (
	"context"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// What the broker adds per login with the Redis stores: a registered
// client's lookup (one script), a consent check (one SMISMEMBER), against
// a PING in the same run.
func BenchmarkAuthStoresRoundTrip(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	rc := srv.client(b)
	cs, _ := NewClientStore(ClientConfig{Config: Config{Client: rc}})
	cons, _ := NewConsentStore(ConsentConfig{Config: Config{Client: rc}})
	reg := authserver.RegisteredClient{ID: "dcr-bench", AuthMethod: authserver.AuthNone,
		GrantTypes: []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken}, Scopes: []string{"mcp:tools"},
		RedirectURIs: []string{"http://127.0.0.1/callback"}, Name: "Bench Agent"}
	if err := cs.Register(ctx, reg); err != nil {
		b.Fatal(err)
	}
	consent := authserver.Consent{Subject: "dave", ClientID: reg.ID, Resource: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}
	if err := cons.Remember(ctx, consent); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		op   func() error
	}{
		{"op=ping", func() error { return rc.Ping(ctx).Err() }},
		{"op=client", func() error { _, err := cs.Client(ctx, reg.ID); return err }},
		{"op=covers", func() error { _, err := cons.Covers(ctx, consent); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
