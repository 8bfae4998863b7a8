package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestReadyBodyNamesEveryFailure: the not-ready body lists every failing
// dependency on its own line (it used to be one string cut at 512 bytes,
// so a long verifier error hid the upstream or the store behind it),
// without credentials in URLs or DSNs, and bounded however many fail.
func TestReadyBodyNamesEveryFailure(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 900)
	checks := []error{
		fmt.Errorf("discovery https://idp.example.com/.well-known/openid-configuration: %s", long),
		errors.New("redis: dial redis://default:s3cretpw@10.0.0.5:6379/0?password=qwerty&db=1: connection refused"),
		errors.New("postgres: host=db.internal user=mcp password=hunter2 dbname=policy: timeout"),
		errors.New("jwks https://user:pa55@keys.example.com/jwks?api_key=k3y#frag: 500"),
	}
	g, err := core.New(core.Config{Resource: readyResource, Verifier: coretest.NewIdP(t).Verifier(t, readyResource),
		Authorizer: authorizerFunc(allowAll), ReadyChecks: []core.ReadinessChecker{
			core.ReadyFunc(func(context.Context) error { return checks[0] }),
			core.ReadyFunc(func(context.Context) error { return checks[1] }),
			core.ReadyFunc(func(context.Context) error { return checks[2] }),
			core.ReadyFunc(func(context.Context) error { return checks[3] }),
		},
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	// A second component outside the Guard, joined as the proxy does.
	upstream := fmt.Errorf("%w: upstream: http://10.1.2.3:3000/mcp: dial tcp 10.1.2.3:3000: connection refused", core.ErrNotReady)
	code, body := probe(t, core.ReadyHandler(core.ReadyFunc(func(ctx context.Context) error {
		return errors.Join(g.Ready(ctx), upstream)
	}), 0))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("%d %s", code, body)
	}
	var got struct {
		Status string   `json:"status"`
		Checks []string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Status != "not ready" {
		t.Fatalf("%v %s", err, body)
	}
	want := []string{"check 0: discovery https://idp.example.com/.well-known/openid-configuration: xxx", "check 1: redis: dial redis://10.0.0.5:6379/0: connection refused",
		"check 2: postgres: host=db.internal user=mcp password=[redacted] dbname=policy: timeout", "check 3: jwks https://keys.example.com/jwks: 500",
		"upstream: http://10.1.2.3:3000/mcp: dial tcp 10.1.2.3:3000: connection refused"}
	if len(got.Checks) != len(want) {
		t.Fatalf("checks %q, want %d lines", got.Checks, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got.Checks[i], w) {
			t.Errorf("check %d = %.120q, want prefix %q", i, got.Checks[i], w)
		}
		if len(got.Checks[i]) > core.MaxReadyCheckBytes {
			t.Errorf("check %d is %d bytes", i, len(got.Checks[i]))
		}
	}
	for _, secret := range []string{"s3cretpw", "qwerty", "hunter2", "pa55", "k3y", "frag", "not ready: "} {
		if strings.Contains(strings.Join(got.Checks, "\n"), secret) {
			t.Errorf("the body contains %q: %s", secret, body)
		}
	}
}

// TestReadyBodyBounded: a hundred failing checks give MaxReadyChecks lines,
// the last one counting the rest.
func TestReadyBodyBounded(t *testing.T) {
	t.Parallel()
	var errs []error
	for i := range 100 {
		errs = append(errs, fmt.Errorf("store %d: %s", i, strings.Repeat(`é"<\`+"\x00", 100)))
	}
	code, body := probe(t, core.ReadyHandler(core.ReadyFunc(func(context.Context) error {
		return fmt.Errorf("%w: %w", core.ErrNotReady, errors.Join(errs...))
	}), 0))
	var got struct{ Checks []string }
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("%d %v", code, err)
	}
	if len(got.Checks) != core.MaxReadyChecks || got.Checks[core.MaxReadyChecks-1] != "... 85 more (see the log)" {
		t.Errorf("%d checks, last %q", len(got.Checks), got.Checks[len(got.Checks)-1])
	}
	if len(body) > 9<<10 {
		t.Errorf("body is %d bytes", len(body))
	}
}
