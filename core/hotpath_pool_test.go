package core

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// userVerifier maps each token to its own claims, with a token memo as the
// real verifier's cache gives them.
type userVerifier map[string]*Claims

func (v userVerifier) Verify(_ context.Context, tok string) (*Claims, error) {
	if c, ok := v[tok]; ok {
		return c, nil
	}
	return nil, ErrSignature
}

// TestServeScratchIsolation: Serve and Check reuse pooled scratch state
// between requests (hotpath.go). Many concurrent requests of different
// principals, with refusals of every early kind mixed in (they keep their
// scratch out of the pool), must each reach the handler with exactly their
// own principal and body; run with -race.
func TestServeScratchIsolation(t *testing.T) {
	t.Parallel()
	const users, rounds = 8, 150
	v := userVerifier{}
	for i := range users {
		v[fmt.Sprintf("tok-%d", i)] = &Claims{Issuer: "https://idp.example", Subject: fmt.Sprintf("user-%d", i),
			Scopes: []string{"mcp:tools"}, Expiry: testNow.Add(time.Hour), Memo: NewTokenMemo(func(int) bool { return true })}
	}
	g := newGuard(t, func(c *Config) { c.Verifier = v })
	var failures sync.Map
	next := func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		if !ok || !strings.Contains(string(body), `"`+p.Subject+`"`) {
			failures.Store(fmt.Sprintf("principal %v got body %s", p, body), true)
		}
		w.WriteHeader(http.StatusOK)
	}
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				sub := fmt.Sprintf("user-%d", i)
				body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"who":%q}}}`, n, sub)
				tok := fmt.Sprintf("tok-%d", i)
				want := http.StatusOK
				switch n % 5 {
				case 1:
					tok, want = "forged", http.StatusUnauthorized
				case 2:
					body, want = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"x"}}`, http.StatusBadRequest
				case 3:
					body, want = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_everything"}}`, http.StatusForbidden
				}
				r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Accept", "application/json, text/event-stream")
				r.Header.Set("Mcp-Protocol-Version", "2025-11-25")
				r.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				g.Serve(w, r, next)
				if w.Code != want {
					failures.Store(fmt.Sprintf("%s round %d: status %d, want %d: %s", sub, n, w.Code, want, w.Body), true)
				}
				if _, err := g.Check(context.Background(), &Request{Method: http.MethodPost, Header: r.Header, Body: []byte(body)}); (err == nil) != (want == http.StatusOK) {
					failures.Store(fmt.Sprintf("%s round %d: Check: %v", sub, n, err), true)
				}
			}
		}()
	}
	wg.Wait()
	failures.Range(func(k, _ any) bool {
		t.Error(k)
		return true
	})
}
