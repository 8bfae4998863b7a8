package jose

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestRemoteFetchFailureLogWording: a failed fetch says "keeping the last
// good key set" only when one was fetched before; before the first success
// it says that no key set is loaded, so an operator at start-up is not told
// that tokens are still being verified.
func TestRemoteFetchFailureLogWording(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	s := newSigner(t, ES256, "k1")
	p.set("503", s.jwk)
	var buf testkit.Buffer
	r := newRemote(t, p, clk, func(c *RemoteKeySetConfig) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		c.MaxStale = time.Hour
	})
	ctx := context.Background()
	if _, err := VerifyToken(ctx, s.token(t, "k1"), r); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("JWKS down at start-up: %v", err)
	}
	out := buf.String()
	if !strings.Contains(out, "no key set loaded") || strings.Contains(out, "last good") {
		t.Fatalf("first failure, nothing ever fetched:\n%s", out)
	}

	p.set("")
	clk.Add(DefaultCooldown + time.Second)
	if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	p.set("503")
	clk.Add(DefaultCooldown + time.Second)
	if _, err := r.Keys(ctx, "unknown", ES256); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown kid during outage: %v", err)
	}
	out = buf.String()
	if !strings.Contains(out, "keeping the last good key set") {
		t.Fatalf("failure after a good fetch:\n%s", out)
	}
	if strings.Count(out, "no key set loaded") != 1 {
		t.Fatalf("the start-up wording was used again after a good fetch:\n%s", out)
	}
}
