package core

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// keepingAuthorizer allows everything and keeps every Permission.Name it
// is asked about, per subject, as an Authorizer (or an audit sink) may.
type keepingAuthorizer struct {
	mu   sync.Mutex
	kept map[string][]string
}

func (a *keepingAuthorizer) Authorize(_ context.Context, p *Principal, perm Permission) (Decision, error) {
	a.mu.Lock()
	a.kept[p.Subject] = append(a.kept[p.Subject], perm.Name)
	a.mu.Unlock()
	return Decision{Allow: true}, nil
}

func (a *keepingAuthorizer) snapshot() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var all []string
	for _, ns := range a.kept {
		all = append(all, ns...)
	}
	return all
}

// TestTargetNameKept: Serve, Check and CheckIntoName keep a short target name in the
// request's own allocation (httpState, resultBox) instead of a string of
// its own. Those bytes must never change while the name is referenced:
// every name an Authorizer kept must still read as sent after many later
// requests, concurrent ones included, and a reader of the kept names
// racing with later requests must not see a write (run with -race: a
// pooled or reused buffer fails both ways).
func TestTargetNameKept(t *testing.T) {
	t.Parallel()
	const users, rounds = 6, 120
	v := userVerifier{}
	for i := range users {
		v[fmt.Sprintf("tok-%d", i)] = &Claims{Issuer: "https://idp.example", Subject: fmt.Sprintf("user-%d", i),
			Scopes: []string{"mcp:tools"}, Expiry: testNow.Add(time.Hour), Memo: NewTokenMemo(func(int) bool { return true })}
	}
	az := &keepingAuthorizer{kept: map[string][]string{}}
	g := newGuard(t, func(c *Config) { c.Verifier, c.Authorizer = v, az })
	// name is the tool name of round n of user i: lengths 4 to 70 bytes,
	// on both sides of nameRoom; every seventh is sent escaped.
	name := func(i, n int) string {
		return fmt.Sprintf("u%dr%d", i, n) + strings.Repeat("abcdefgh", n%9)
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // reads the kept names while later requests run
		defer readers.Done()
		for {
			for _, s := range az.snapshot() {
				if !strings.HasPrefix(s, "u") {
					t.Errorf("kept name changed: %q", s)
					return
				}
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	next := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				sent := name(i, n)
				if n%7 == 3 {
					sent = `\u0075` + sent[1:] // "u", escaped
				}
				body := toolCall(sent)
				r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
				r.Header = post(fmt.Sprintf("tok-%d", i), body).Header
				w := httptest.NewRecorder()
				g.Serve(w, r, next)
				if w.Code != http.StatusOK {
					t.Errorf("user %d round %d: Serve: status %d: %s", i, n, w.Code, w.Body)
					return
				}
				if _, err := g.Check(context.Background(), post(fmt.Sprintf("tok-%d", i), body)); err != nil {
					t.Errorf("user %d round %d: Check: %v", i, n, err)
					return
				}
				box := new(resultBox) // an adapter's own per-request allocation
				if _, err := g.CheckIntoName(context.Background(), post(fmt.Sprintf("tok-%d", i), body), &box.res, box.name[:0]); err != nil {
					t.Errorf("user %d round %d: CheckIntoName: %v", i, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	for i := range users {
		got := az.kept[fmt.Sprintf("user-%d", i)]
		if len(got) != 3*rounds {
			t.Fatalf("user %d: %d names kept, want %d", i, len(got), 3*rounds)
		}
		for k, s := range got {
			if want := name(i, k/3); s != want {
				t.Errorf("user %d: kept name %d is %q, want %q", i, k, s, want)
			}
		}
	}
}
