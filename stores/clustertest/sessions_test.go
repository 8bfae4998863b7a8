package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// userVerifier maps the bearer tokens "alice" and "bob" to users, so the
// test is about the sessions, not the tokens (TestPolicyInPostgresAcrossReplicas
// uses real AS tokens through the same adapter).
type userVerifier struct{}

func (userVerifier) Verify(_ context.Context, tok string) (*core.Claims, error) {
	if tok != "alice" && tok != "bob" {
		return nil, core.ErrSignature
	}
	return &core.Claims{Issuer: "https://idp.example", Subject: tok, Expiry: time.Now().Add(time.Hour)}, nil
}

// sessionServer answers initialize with a fresh Mcp-Session-Id (what a
// stateful MCP server does) and every other message with an empty result.
func sessionServer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(string(body), `"initialize"`) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		w.Header().Set("Mcp-Session-Id", hex.EncodeToString(b[:]))
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
		return
	}
	_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{}}`)
}

// TestSessionBoundOnAllReplicas: proof (4) through HTTP. A session created
// through one of 3 Guard replicas (net/http adapter, sessions in Redis,
// round-robin proxy) is bound to its principal on every replica: its owner
// is served by all three, another principal gets the same 404 as for an
// unknown id on all three, and a DELETE through one ends it on all.
func TestSessionBoundOnAllReplicas(t *testing.T) {
	rs := redistest.Start(t)
	var backends []string
	for range replicas {
		o, err := redisstore.ClientOptions(rs.URL())
		if err != nil {
			t.Fatal(err)
		}
		sb, err := redisstore.NewSessionBindings(redisstore.Config{Client: redisClient(t, o)})
		if err != nil {
			t.Fatal(err)
		}
		g, err := core.New(core.Config{Resource: resource, Verifier: userVerifier{}, AuthenticateOnly: true, Sessions: sb,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}}})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		httpmcp.Register(mux, g, http.HandlerFunc(sessionServer))
		ln := testkit.Listen(t)
		testkit.Serve(t, ln, mux)
		backends = append(backends, "http://"+ln.Addr().String())
	}
	hits := make([]atomic.Int64, replicas)
	ln := testkit.Listen(t)
	roundRobin(t, ln, backends, hits)
	endpoint := "http://" + ln.Addr().String() + "/mcp"
	hc := &http.Client{Timeout: 10 * time.Second}
	send := func(method, tok, sid, body string) (status, replica int, newSID string) {
		t.Helper()
		req, err := http.NewRequest(method, endpoint, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		replica, _ = strconv.Atoi(res.Header.Get("X-Cluster-Replica"))
		return res.StatusCode, replica, res.Header.Get("Mcp-Session-Id")
	}
	const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	const ping = `{"jsonrpc":"2.0","id":2,"method":"ping"}`
	status, created, sid := send(http.MethodPost, "alice", "", initBody)
	if status != 200 || sid == "" {
		t.Fatalf("initialize: %d, session %q", status, sid)
	}
	// Four requests a round over 3 replicas: in 3 rounds each replica
	// serves the owner and refuses the other principal, exactly as for an
	// unknown session id, and serves a request without a session.
	owner, foreign := map[int]bool{}, map[int]bool{}
	for range replicas {
		if st, r, _ := send(http.MethodPost, "bob", "", ping); st != 200 {
			t.Fatalf("no session on replica %d: %d", r, st)
		}
		st, r, _ := send(http.MethodPost, "alice", sid, ping)
		if st != 200 {
			t.Fatalf("owner on replica %d (created on %d): %d", r, created, st)
		}
		owner[r] = true
		st, r, _ = send(http.MethodPost, "bob", sid, ping)
		if st != http.StatusNotFound {
			t.Fatalf("other principal on replica %d: %d, want 404", r, st)
		}
		foreign[r] = true
		if st, r, _ := send(http.MethodPost, "bob", "unknown-"+sid, ping); st != http.StatusNotFound {
			t.Fatalf("unknown session on replica %d: %d, want 404", r, st)
		}
	}
	if len(owner) != replicas || len(foreign) != replicas {
		t.Fatalf("replicas reached: owner %v, other principal %v", owner, foreign)
	}
	if st, r, _ := send(http.MethodDelete, "alice", sid, ""); st >= 300 {
		t.Fatalf("DELETE on replica %d: %d", r, st)
	}
	for range replicas {
		if st, r, _ := send(http.MethodPost, "alice", sid, ping); st != http.StatusNotFound {
			t.Fatalf("ended session on replica %d: %d, want 404", r, st)
		}
	}
}
