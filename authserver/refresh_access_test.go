package authserver_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestRefreshReappliesAccessRules: the broker's access rules (group ->
// resource, scopes) used to decide at login only. An operator who removed
// a group's rule and restarted (same shared refresh store) left that
// group's users refreshing with the old scopes until the family's
// absolute lifetime (7 days by default). Each refresh now re-applies the
// current rules to the groups that matched at login.
func TestRefreshReappliesAccessRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rules  []authserver.AccessRule
		status int
		scope  string
	}{
		{"rules unchanged", nil, 200, "mcp:tools"},
		{"the user's rule removed", []authserver.AccessRule{{Group: "admins", Resource: e2eMCP, Scopes: []string{"mcp:tools", "mcp:admin"}}}, 400, ""},
		{"the user's rule moved to another resource", []authserver.AccessRule{{Group: "eng", Resource: e2eOther, Scopes: []string{"other:read"}}}, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := authserver.NewMemoryRefreshStore(0)
			e := newBrokerEnv(t, func(c *authserver.Config) { c.Broker.RefreshStore = store })
			ver, ch := pkcePair()
			loc := e.login(t, e.browser(), e.authzParams(brPublic, brRedirect, ch)) // the upstream user is in "eng"
			status, body, _ := e.token(t, codeForm(loc.Query().Get("code"), brRedirect, ver), false)
			if status != 200 {
				t.Fatalf("code: %d %v", status, body)
			}
			rt := body["refresh_token"].(string)

			// The operator edits the rules and restarts; the refresh store is shared.
			cfg := e.cfg
			b := *cfg.Broker
			if tc.rules != nil {
				b.Access = tc.rules
			}
			b.RefreshStore = store
			cfg.Broker = &b
			as, err := authserver.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var h http.Handler = as
			e.front.Store(&h)

			refresh := func(rt string) (int, map[string]any) {
				s, b, _ := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {brPublic}}, false)
				return s, b
			}
			s, got := refresh(rt)
			if s != tc.status || (s == 200 && got["scope"] != tc.scope) || (s != 200 && got["error"] != "invalid_grant") {
				t.Fatalf("refresh: %d %v, want %d %q", s, got, tc.status, tc.scope)
			}
			if s != 200 {
				if s, _ := refresh(rt); s == 200 {
					t.Fatal("the family was not revoked")
				}
			}
		})
	}
}
