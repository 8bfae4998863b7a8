package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// A rate-limit bucket holding anything but a finite number makes the
// grant script fail closed (core.ErrStoreUnavailable, 503), as the GCRA
// script of the Limiter does: a failure bucket holding "nan" never refused
// (every comparison with NaN is false), so it turned off the failure
// lockout, and any other garbage read as an empty bucket. Both the
// one-call and the streamed (Sender) paths, for the pair's failure bucket,
// the global one (read once the pair has recent failures) and a charge.
func TestGrantStepsCorruptBucketFailsClosed(t *testing.T) {
	srv := startRedis(t)
	rc := srv.client(t)
	ctx := context.Background()
	stores := map[string]*GrantStore{}
	for _, sender := range []bool{false, true} {
		cfg := ReplayConfig{Config: Config{Client: rc}}
		name := "run"
		if sender {
			cfg.Sender, name = srv.sender(t), "send"
		}
		gs, err := NewGrantStore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		stores[name] = gs
	}
	fail := authserver.Limit{PerSecond: 1, Burst: 5}
	global := authserver.Limit{PerSecond: 100, Burst: 1000}
	tests := []struct {
		name    string
		corrupt func(pair, glob string) string // returns the key to corrupt; may prepare others
		steps   func(pair, glob string) []authserver.GrantStep
	}{
		{
			name:    "failure bucket of the pair",
			corrupt: func(pair, _ string) string { return pair },
			steps: func(pair, glob string) []authserver.GrantStep {
				return []authserver.GrantStep{{Kind: authserver.StepCheckFailures, Key: pair, Limit: fail, GlobalKey: glob, GlobalLimit: global}}
			},
		},
		{
			name:    "global failure bucket",
			corrupt: func(_, glob string) string { return glob },
			steps: func(pair, glob string) []authserver.GrantStep {
				return []authserver.GrantStep{{Kind: authserver.StepCheckFailures, Key: pair, Limit: fail, GlobalKey: glob, GlobalLimit: global}}
			},
		},
		{
			name:    "charge bucket",
			corrupt: func(pair, _ string) string { return pair },
			steps: func(pair, _ string) []authserver.GrantStep {
				return []authserver.GrantStep{{Kind: authserver.StepCharge, Key: pair, Limit: fail}}
			},
		},
	}
	values := []string{"nan", "-nan", "inf", "-inf", "abc", "", "1e999"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, gs := range stores {
				for _, v := range values {
					pair, glob := "fail|"+name+"|"+tt.name+"|"+v, "failall|"+name+"|"+tt.name+"|"+v
					// The pair has a recent failure, so the script reads
					// the global bucket too.
					if d, err := gs.Allow(ctx, pair, fail); err != nil || !d.Allowed {
						t.Fatalf("recording a failure: %+v %v", d, err)
					}
					if err := rc.Set(ctx, gs.key("rl", tt.corrupt(pair, glob)), v, time.Minute).Err(); err != nil {
						t.Fatal(err)
					}
					steps := tt.steps(pair, glob)
					res, err := gs.SendGrantSteps(ctx, steps)()
					if !errors.Is(err, core.ErrStoreUnavailable) {
						t.Errorf("%s, bucket %q: %+v, %v; want ErrStoreUnavailable", name, v, res, err)
					}
				}
			}
		})
	}
	// Sound buckets still decide.
	for name, gs := range stores {
		res, err := gs.SendGrantSteps(ctx, []authserver.GrantStep{
			{Kind: authserver.StepCheckFailures, Key: "fail|ok|" + name, Limit: fail, GlobalKey: "failall|ok|" + name, GlobalLimit: global},
			{Kind: authserver.StepCharge, Key: "grant|ok|" + name, Limit: fail},
		})()
		if err != nil || res.Refused != -1 {
			t.Fatalf("%s, sound buckets: %+v %v", name, res, err)
		}
	}
}
