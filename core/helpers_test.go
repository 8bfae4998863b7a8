package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Tokens understood by fakeVerifier.
const (
	tokAlice   = "alice-token"
	tokBob     = "bob-token"
	tokClient  = "client-token"
	secretTail = "S3CR3T-T0K3N-BYTES"
)

var testNow = time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)

// fakeVerifier maps tokens to claims; every other token fails with the
// error keyed by its prefix ("expired." → ErrExpired, ...).
type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, tok string) (*Claims, error) {
	switch tok {
	case tokAlice:
		return &Claims{Issuer: "https://idp.example", Subject: "alice", ClientID: "app", Scopes: []string{"mcp:tools"},
			Expiry: testNow.Add(time.Hour), Raw: rawOf(map[string]any{"groups": []any{"eng"}})}, nil
	case tokBob:
		return &Claims{Issuer: "https://idp.example", Subject: "bob", ClientID: "app", Expiry: testNow.Add(time.Hour)}, nil
	case tokClient:
		return &Claims{Issuer: "https://idp.example", Subject: "svc", ClientID: "svc", Expiry: testNow.Add(time.Hour)}, nil
	}
	prefix, _, _ := strings.Cut(tok, ".")
	switch prefix {
	case "expired":
		return nil, fmt.Errorf("verifier: %w (token %s)", ErrExpired, tok) // a careless cause that contains the token
	case "badsig":
		return nil, fmt.Errorf("verifier: %w", ErrSignature)
	case "aud":
		return nil, fmt.Errorf("verifier: %w", ErrAudience)
	case "down":
		return nil, fmt.Errorf("verifier: jwks: %w", ErrUnavailable)
	case "nilclaims":
		return nil, nil
	}
	return nil, fmt.Errorf("verifier: %w", ErrMalformedToken)
}

// policy is a small Authorizer: tools "ls" and "echo" allowed, "deploy"
// needs scope mcp:deploy, "rm" denied; prompts "greet" allowed; resources
// "file:///public/*" allowed; everything server-level allowed; "boom" fails.
type policy struct{}

func (policy) Authorize(_ context.Context, p *Principal, perm Permission) (Decision, error) {
	switch perm.Kind {
	case ObjectServer:
		return Decision{Allow: true, Rule: "server"}, nil
	case ObjectTool:
		switch perm.Name {
		case "ls", "echo":
			return Decision{Allow: true, Rule: "p, *, tool:" + perm.Name, PolicyVersion: 7, PolicyDigest: "d1g357"}, nil
		case "deploy":
			if p.HasScope("mcp:deploy") {
				return Decision{Allow: true}, nil
			}
			return Decision{RequiredScopes: []string{"mcp:tools", "mcp:deploy"}, Rule: "scope:deploy"}, nil
		case "boom":
			return Decision{}, errors.New("policy evaluation failed")
		case "down":
			return Decision{}, fmt.Errorf("policy store: %w", ErrUnavailable)
		}
	case ObjectPrompt:
		return Decision{Allow: perm.Name == "greet"}, nil
	case ObjectResource:
		return Decision{Allow: strings.HasPrefix(perm.Name, "file:///public/")}, nil
	}
	return Decision{Reason: "not allowed"}, nil
}

func testConfig() Config {
	return Config{
		Resource:   "https://mcp.example.com/mcp",
		Verifier:   fakeVerifier{},
		Authorizer: policy{},
		Metadata: ProtectedResourceMetadata{
			AuthorizationServers: []string{"https://idp.example"},
			ScopesSupported:      []string{"mcp:tools", "mcp:resources"},
			ResourceName:         "Example MCP",
		},
		Now: func() time.Time { return testNow },
	}
}

func newGuard(t testing.TB, mods ...func(*Config)) *Guard {
	t.Helper()
	cfg := testConfig()
	for _, m := range mods {
		m(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

// post builds a POST request carrying body with the given bearer token
// ("" = no Authorization header).
func post(token, body string, hdr ...string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	h.Set("Mcp-Protocol-Version", "2025-11-25")
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			h.Del(hdr[i])
			continue
		}
		h.Add(hdr[i], hdr[i+1])
	}
	return &Request{Method: http.MethodPost, Path: "/mcp", Header: h, Body: []byte(body)}
}

func toolCall(name string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"` + name + `","arguments":{}}}`
}

const toolsList = `{"jsonrpc":"2.0","id":"L1","method":"tools/list","params":{}}`

// rawOf encodes test claims (RawClaimsFromMap); it panics on a value
// encoding/json cannot encode.
func rawOf(m map[string]any) RawClaims {
	r, err := RawClaimsFromMap(m)
	if err != nil {
		panic(err)
	}
	return r
}
