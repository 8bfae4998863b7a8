package authserver_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// TestBrokerCallbackMarksNeedALogin: anyone can start a login (/authorize
// answers the sealed cookie, and the upstream redirect carries its state)
// and call the callback with it. Such callbacks, with a forged upstream
// code or an upstream error, record nothing in the replay store: the
// callback's once-mark shares the replay partition of every login,
// consent and authorization code of all users ("login-callback|<id>",
// "code|<id>"), so an anonymous flood of them used to fill it for
// DefaultLoginLifetime and make every real login fail (503). Here the
// partition holds 4 marks, what one real login uses; the flood is twice
// that, and a real login and its code redemption still succeed.
func TestBrokerCallbackMarksNeedALogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		query func(state string) url.Values
		want  int // status of a flooding callback
	}{
		{"forged upstream code", func(state string) url.Values { return url.Values{"code": {"forged"}, "state": {state}} }, http.StatusBadGateway},
		{"upstream error", func(state string) url.Values { return url.Values{"error": {"access_denied"}, "state": {state}} }, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, err := replay.NewMemory(replay.MemoryConfig{MaxEntries: 16}) // a partition holds 4
			if err != nil {
				t.Fatal(err)
			}
			e := newBrokerEnv(t, func(c *authserver.Config) { c.ReplayStore = store })
			anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			_, ch := pkcePair()
			for i := range 8 {
				resp, _ := get(t, anon, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
				up, err := url.Parse(resp.Header.Get("Location"))
				if err != nil || resp.StatusCode != http.StatusFound || len(resp.Cookies()) != 1 {
					t.Fatalf("authorize %d: %d %v", i, resp.StatusCode, resp.Cookies())
				}
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/callback?"+tt.query(up.Query().Get("state")).Encode(), nil)
				req.AddCookie(resp.Cookies()[0])
				r, err := anon.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				r.Body.Close()
				if r.StatusCode != tt.want {
					t.Fatalf("flooding callback %d: %d, want %d", i, r.StatusCode, tt.want)
				}
			}
			if n := store.Len(); n != 0 {
				t.Fatalf("%d replay marks recorded by callbacks without a login", n)
			}
			ver, ch := pkcePair()
			loc := e.login(t, e.browser(), e.authzParams(brPublic, brRedirect, ch))
			code := loc.Query().Get("code")
			if code == "" {
				t.Fatalf("real login after the flood: no code in %s", loc)
			}
			if status, body, _ := e.token(t, codeForm(code, brRedirect, ver), false); status != http.StatusOK {
				t.Fatalf("code redemption after the flood: %d %v", status, body)
			}
		})
	}
}
