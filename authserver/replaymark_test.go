package authserver_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// markRecorder is a replay.Memory that remembers, per key, how far ahead
// of the server's clock each mark expires, and declares a quarantine of
// the server's ReplayMarkLifetime (so that New accepts it).
type markRecorder struct {
	*replay.Memory
	now        func() time.Time
	quarantine time.Duration
	mu         sync.Mutex
	ahead      map[string]time.Duration
}

func (m *markRecorder) CheckAndStore(ctx context.Context, key string, exp time.Time) error {
	m.mu.Lock()
	m.ahead[key] = max(m.ahead[key], exp.Sub(m.now()))
	m.mu.Unlock()
	return m.Memory.CheckAndStore(ctx, key, exp)
}

func (m *markRecorder) Quarantine() time.Duration { return m.quarantine }

// TestReplayMarksWithinReplayMarkLifetime: every mark a broker login
// leaves (the upstream callback and the consent form, once each; the
// authorization code) expires at most Config.ReplayMarkLifetime after it
// is recorded, so a quarantine of that length outlasts them all. The
// login steps' marks live LoginLifetime + Leeway + ReplayClockSkew, longer
// than the 7 min quarantine that used to be the default.
func TestReplayMarksWithinReplayMarkLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		login time.Duration // Broker.LoginLifetime; 0 = default
	}{
		{name: "default login lifetime"},
		{name: "1 h login lifetime", login: time.Hour},
		{name: "2 min login lifetime", login: 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem, err := replay.NewMemory(replay.MemoryConfig{})
			if err != nil {
				t.Fatal(err)
			}
			rec := &markRecorder{Memory: mem, ahead: map[string]time.Duration{}}
			e := newBrokerEnv(t, func(c *authserver.Config) {
				c.Broker.LoginLifetime = tt.login
				rec.now = c.Now
				rec.quarantine = c.ReplayMarkLifetime()
				c.ReplayStore = rec
			})
			need := e.cfg.ReplayMarkLifetime()
			login := tt.login
			if login == 0 {
				login = authserver.DefaultLoginLifetime
			}
			if want := login + authserver.DefaultLeeway + 2*authserver.DefaultReplayClockSkew; need < want {
				t.Fatalf("ReplayMarkLifetime %v, want at least %v", need, want)
			}
			c := e.browser()
			v, ch := pkcePair()
			resp, page := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
			if resp.StatusCode != 200 {
				t.Fatalf("authorize: %d %s", resp.StatusCode, page)
			}
			resp = e.consent(t, c, page, "allow")
			u, _ := url.Parse(resp.Header.Get("Location"))
			code := u.Query().Get("code")
			if code == "" {
				t.Fatalf("consent: %d %s", resp.StatusCode, u)
			}
			if s, body, _ := e.token(t, codeForm(code, brRedirect, v), false); s != 200 {
				t.Fatalf("token: %d %v", s, body)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			kinds := map[string]bool{}
			for key, ahead := range rec.ahead {
				kind, _, _ := strings.Cut(key, "|")
				kinds[kind] = true
				if ahead > need {
					t.Errorf("mark %s expires %v ahead, longer than ReplayMarkLifetime %v", kind, ahead, need)
				}
				if strings.HasPrefix(kind, "login-") && ahead <= 7*time.Minute && tt.login == 0 {
					t.Errorf("login mark %s expires %v ahead, want more than 7 min", kind, ahead)
				}
			}
			for _, k := range []string{"login-callback", "login-consent"} {
				if !kinds[k] {
					t.Errorf("no %s mark among %v", k, kinds)
				}
			}
		})
	}
}
