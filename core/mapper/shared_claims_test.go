package mapper_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestSharedCachedClaimsNotMutated sends one token through a Guard with a
// caching verifier and a refining mapper from many goroutines (run with
// -race): the refine hook grows the principal's scopes, groups and
// attributes, and the authorizer reads the claims, yet the *core.Claims the
// verifier cache shares between requests must stay exactly as verified.
func TestSharedCachedClaimsNotMutated(t *testing.T) {
	t.Parallel()
	const resource = "https://mcp.example.com/mcp"
	idp := coretest.NewIdP(t)
	v, err := verifier.New(context.Background(), idp.VerifierConfig(resource))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapper.Standard(mapper.Config{
		GroupClaims:     []string{"groups"},
		AttributeClaims: map[string]string{"dept": "org.dept"},
		Refine: func(c *core.Claims, p *core.Principal) error {
			p.Scopes = append(p.Scopes, "refined")
			p.Groups = append(p.Groups, "refined")
			if len(p.Groups) > 0 {
				p.Groups[0] = "overwritten"
			}
			if p.Attributes == nil {
				p.Attributes = map[string]any{}
			}
			p.Attributes["extra"] = true
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var seenMu sync.Mutex
	var seen []*core.Claims
	authz := authorizer(func(_ context.Context, p *core.Principal, _ core.Permission) (core.Decision, error) {
		if g := p.Claims.Strings("groups", false); !slices.Equal(g, []string{"eng", "ops"}) {
			t.Errorf("claims groups = %v", g)
		}
		seenMu.Lock()
		seen = append(seen, p.Claims)
		seenMu.Unlock()
		return core.Decision{Allow: true}, nil
	})
	g, err := core.New(core.Config{Resource: resource, Verifier: v, Mapper: m, Authorizer: authz,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}}})
	if err != nil {
		t.Fatal(err)
	}
	tok := idp.Mint(map[string]any{"sub": "alice", "aud": resource, "client_id": "c", "scope": "tools:call",
		"groups": []string{"eng", "ops"}, "org": map[string]any{"dept": "r&d"}})
	first, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	snap := *first
	snap.Scopes, snap.Audience = slices.Clone(first.Scopes), slices.Clone(first.Audience)
	rawJSON := string(first.Raw.JSON())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				h := http.Header{}
				h.Set("Authorization", "Bearer "+tok)
				h.Set("Content-Type", "application/json")
				h.Set("Accept", "application/json, text/event-stream")
				h.Set("Mcp-Protocol-Version", "2025-11-25")
				res, err := g.Check(context.Background(), &core.Request{Method: http.MethodPost, Path: "/mcp", Header: h,
					Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`)})
				if err != nil {
					t.Error(err)
					return
				}
				if p := res.Principal; !slices.Contains(p.Scopes, "refined") || p.Attributes["dept"] != "r&d" {
					t.Errorf("principal = %+v", p)
				}
			}
		}()
	}
	wg.Wait()
	again, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(seen, again) {
		if c != first {
			t.Fatalf("the cache handed out another *Claims; the test no longer checks sharing")
		}
	}
	if !reflect.DeepEqual(first.Scopes, snap.Scopes) || !reflect.DeepEqual(first.Audience, snap.Audience) ||
		first.Subject != snap.Subject || first.ClientID != snap.ClientID || string(first.Raw.JSON()) != rawJSON {
		t.Fatalf("shared claims mutated: %+v, want %+v", *first, snap)
	}
	if g := first.Strings("groups", false); !slices.Equal(g, []string{"eng", "ops"}) {
		t.Fatalf("groups = %v", g)
	}
}

type authorizer func(context.Context, *core.Principal, core.Permission) (core.Decision, error)

func (f authorizer) Authorize(ctx context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	return f(ctx, p, perm)
}
