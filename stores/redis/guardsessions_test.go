package redisstore

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// staticVerifier maps the tokens "alice" and "bob" to users.
type staticVerifier struct{}

func (staticVerifier) Verify(_ context.Context, tok string) (*core.Claims, error) {
	if tok != "alice" && tok != "bob" {
		return nil, core.ErrSignature
	}
	return &core.Claims{Issuer: "https://idp.example", Subject: tok, Expiry: time.Now().Add(time.Hour)}, nil
}

// TestGuardSharedSessionBindings: two Guards (two replicas) with
// core.Config.Sessions on one Redis share bindings: a session created
// through one is refused to another principal on the other (same bytes as
// an unknown id), the per-principal cap counts across replicas, DELETE on
// one ends it on both, and Redis down fails closed with 503 only for
// requests that need a binding.
func TestGuardSharedSessionBindings(t *testing.T) {
	srv := startRedis(t)
	var gs [2]*core.Guard
	for i := range gs {
		store, err := NewSessionBindings(Config{Client: srv.client(t)})
		if err != nil {
			t.Fatal(err)
		}
		gs[i], err = core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: staticVerifier{}, AuthenticateOnly: true,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}},
			Sessions: store, MaxSessionsPerPrincipal: 2, SessionTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	req := func(method, tok, sid, body string) *core.Request {
		h := http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"},
			"Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2025-11-25"}}
		if sid != "" {
			h.Set("Mcp-Session-Id", sid)
		}
		return &core.Request{Method: method, Path: "/mcp", Header: h, Body: []byte(body)}
	}
	const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	const ping = `{"jsonrpc":"2.0","id":2,"method":"ping"}`
	kind := func(err error) core.ErrorKind {
		var e *core.Error
		if errors.As(err, &e) {
			return e.Kind
		}
		return ""
	}
	create := func(g *core.Guard, tok, sid string) error {
		res, err := g.Check(ctx, req(http.MethodPost, tok, "", initBody))
		if err != nil {
			return err
		}
		return res.BindSession(sid)
	}
	if err := create(gs[0], "alice", "s-1"); err != nil {
		t.Fatal(err)
	}
	_, foreign := gs[1].Check(ctx, req(http.MethodPost, "bob", "s-1", ping))
	_, unknown := gs[1].Check(ctx, req(http.MethodPost, "bob", "s-none", ping))
	if kind(foreign) != core.KindSession || !reflect.DeepEqual(gs[1].Render(foreign), gs[1].Render(unknown)) {
		t.Fatalf("foreign %v / unknown %v", foreign, unknown)
	}
	if _, err := gs[1].Check(ctx, req(http.MethodPost, "alice", "s-1", ping)); err != nil {
		t.Fatalf("alice on the other replica: %v", err)
	}
	if err := create(gs[1], "alice", "s-2"); err != nil {
		t.Fatal(err)
	}
	if err := create(gs[0], "alice", "s-3"); kind(err) != core.KindSessionLimit {
		t.Fatalf("third session across replicas: %v", err)
	}
	if err := create(gs[0], "bob", "s-4"); err != nil {
		t.Fatalf("bob: %v", err)
	}
	if _, err := gs[1].Check(ctx, req(http.MethodDelete, "alice", "s-1", "")); err != nil {
		t.Fatal(err)
	}
	if _, err := gs[0].Check(ctx, req(http.MethodPost, "alice", "s-1", ping)); kind(err) != core.KindSession {
		t.Fatalf("deleted session on the other replica: %v", err)
	}
	srv.Stop()
	if _, err := gs[0].Check(ctx, req(http.MethodPost, "alice", "s-2", ping)); kind(err) != core.KindUnavailable {
		t.Fatalf("Redis down, session request: %v", err)
	}
	if _, err := gs[0].Check(ctx, req(http.MethodPost, "alice", "", ping)); err != nil {
		t.Fatalf("Redis down, request without a session: %v", err)
	}
}
