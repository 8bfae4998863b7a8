package authserver

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestReplayMarkOutlivesClockSkew: after exp + leeway, when a mark kept
// until exp + leeway alone would be swept, the clock steps back (an NTP
// correction; or a replica whose clock is behind the one that recorded the
// jti), so the ID-JAG is within its exp + leeway again. With the mark kept
// until exp + leeway + ReplayClockSkew it stays refused; with a skew
// allowance smaller than the step it is accepted a second time (the case
// the allowance exists for).
func TestReplayMarkOutlivesClockSkew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		skew       time.Duration // Config.ReplayClockSkew; 0 = default
		after      time.Duration // past exp + leeway: a grant sweeps the store, then the clock steps
		back       time.Duration // the clock's step back
		wantStatus int           // of the replay after the step
	}{
		{name: "default skew covers a 29.5 s step", after: 29 * time.Second, back: 29500 * time.Millisecond, wantStatus: 400},
		{name: "2 min skew covers a 119.5 s step", skew: 2 * time.Minute, after: 119 * time.Second, back: 119500 * time.Millisecond, wantStatus: 400},
		{name: "5 min skew covers a 10 s step", skew: 5 * time.Minute, after: 9 * time.Second, back: 10 * time.Second, wantStatus: 400},
		{name: "1 ms skew: a 29.5 s step replays", skew: time.Millisecond, after: 29 * time.Second, back: 29500 * time.Millisecond, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) {
				c.ReplayClockSkew = tt.skew
				m, err := replay.NewMemory(replay.MemoryConfig{Now: c.Now})
				if err != nil {
					t.Fatal(err)
				}
				c.ReplayStore = m
			})
			claims := e.idjagClaims()
			exp := time.Unix(claims["exp"].(int64), 0)
			jag := mint(t, idpKey, TypeIDJAG, claims)
			send := func(assertion string) oauthResult {
				body := form("grant_type", GrantJWTBearer, "assertion", assertion)
				return decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}}))
			}
			if res := send(jag); res.status != 200 {
				t.Fatalf("first redemption: %d %s", res.status, res.body)
			}
			if res := send(jag); res.status != 400 || res.err != "invalid_grant" {
				t.Fatalf("immediate replay: %d %s", res.status, res.body)
			}
			// After exp + leeway another grant sweeps the store (every
			// call sweeps what has expired); then the clock steps back.
			e.clock.Add(exp.Add(DefaultLeeway + tt.after).Sub(e.clock.Now()))
			if res := send(mint(t, idpKey, TypeIDJAG, e.idjagClaims())); res.status != 200 {
				t.Fatalf("sweeping grant: %d %s", res.status, res.body)
			}
			e.clock.Add(-tt.back)
			if !e.clock.Now().Before(exp.Add(DefaultLeeway)) {
				t.Fatalf("test setup: the ID-JAG is expired after the step (now %v, exp %v)", e.clock.Now(), exp)
			}
			res := send(jag)
			if res.status != tt.wantStatus {
				t.Fatalf("replay %v after exp + leeway and a %v step back: %d %q, want %d", tt.after, tt.back, res.status, res.err, tt.wantStatus)
			}
		})
	}
}

// TestReplayClockSkewBounds: replay_clock_skew is read from the file and
// bounded to [0, 5 min].
func TestReplayClockSkewBounds(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "authserver.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("\nleeway: 30s\n"), []byte("\nleeway: 30s\nreplay_clock_skew: 45s\n"), 1)
	cfg, err := ParseConfig(data, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReplayClockSkew != 45*time.Second || s.replayHold != 75*time.Second {
		t.Fatalf("replay_clock_skew: 45s gave ReplayClockSkew %v, hold %v", cfg.ReplayClockSkew, s.replayHold)
	}
	for _, skew := range []time.Duration{-time.Second, 5*time.Minute + 1} {
		cfg := baseConfig(t, testkit.NewClock(time.Unix(1_800_000_000, 0)))
		cfg.ReplayClockSkew = skew
		if _, err := New(cfg); err == nil {
			t.Errorf("ReplayClockSkew %v accepted", skew)
		}
	}
}
