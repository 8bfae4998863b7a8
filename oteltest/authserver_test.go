package oteltest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/coretest"
)

func TestAuthServerGrantsReplaysAndRateLimit(t *testing.T) {
	t.Parallel()
	p := newProviders(t)
	keys := coretest.NewIdP(t) // holds the private_key_jwt client's keys
	hash, err := authserver.HashSecret("reporting-agent-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "http://127.0.0.1/oauth"
	as, err := authserver.New(authserver.Config{
		Issuer:      issuer,
		Resources:   []authserver.Resource{{ID: resource, Scopes: []string{"mcp:tools"}}},
		SigningKeys: []authserver.SigningKey{{Signer: keys.Signer("ES256"), KeyID: "as-1"}},
		Clients: []authserver.Client{
			{ID: "reporter", SecretHash: hash, GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: []string{"mcp:tools"}},
			{ID: "signer", JWKSURL: keys.JWKSURL(), AuthMethods: []string{authserver.AuthPrivateKeyJWT},
				GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: []string{"mcp:tools"}},
		},
		RateLimit:      authserver.RateLimit{PerSecond: 0.001, Burst: 3},
		HTTPClient:     keys.HTTPClient(),
		TracerProvider: p.tp, MeterProvider: p.mp,
	})
	if err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values) int {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		as.ServeHTTP(w, r)
		return w.Code
	}
	secret := func(s string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {"reporter"}, "client_secret": {s}}
	}
	assertion := keys.Mint(map[string]any{"iss": "signer", "sub": "signer", "aud": issuer, "exp": time.Now().Add(time.Minute).Unix()}, coretest.WithTyp("JWT"))
	signed := url.Values{"grant_type": {"client_credentials"}, "client_id": {"signer"},
		"client_assertion_type": {authserver.AssertionTypeJWTBearer}, "client_assertion": {assertion}}

	steps := []struct {
		form url.Values
		want int
	}{
		{secret("reporting-agent-secret-0123456789"), 200},
		{secret("reporting-agent-secret-0123456789"), 200},
		{secret("wrong-secret-wrong-secret-wrong!!"), 401},
		{secret("reporting-agent-secret-0123456789"), 200}, // a failed authentication does not use the grant bucket
		{secret("reporting-agent-secret-0123456789"), 429}, // bucket of 3 used up
		{signed, 200},
		{signed, 401}, // the same assertion again: replay
		{url.Values{"grant_type": {"password"}}, 400},
	}
	for i, s := range steps {
		if got := post(s.form); got != s.want {
			t.Fatalf("step %d: status %d, want %d", i, got, s.want)
		}
	}

	rm := p.collect(t)
	cc := AttrGrantType.String("client_credentials")
	for _, c := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{MetricGrants, []attribute.KeyValue{cc, AttrOutcome.String("issued")}, 4},
		{MetricGrants, []attribute.KeyValue{cc, AttrOutcome.String("invalid_client")}, 2},
		{MetricGrants, []attribute.KeyValue{cc, AttrOutcome.String("temporarily_unavailable")}, 1},
		{MetricGrants, []attribute.KeyValue{AttrGrantType.String("other"), AttrOutcome.String("unsupported_grant_type")}, 1},
		{MetricRateLimited, nil, 1},
		{MetricReplaysRefused, []attribute.KeyValue{attribute.String("mcpauthz.replay.kind", "client_assertion")}, 1},
	} {
		if got := sum(t, rm, c.name, c.attrs...); got != c.want {
			t.Errorf("%s%v = %d, want %d", c.name, c.attrs, got, c.want)
		}
	}

	spans := p.spans.Ended()
	if len(spans) != len(steps) {
		t.Fatalf("%d spans, want %d", len(spans), len(steps))
	}
	for _, s := range spans {
		if s.Name() != authserver.SpanGrant {
			t.Fatalf("span %q", s.Name())
		}
		for _, kv := range s.Attributes() {
			if containsAny(kv.Value.String(), "reporting-agent-secret", "wrong-secret", assertion) {
				t.Fatalf("span attribute %s carries a secret or assertion", kv.Key)
			}
		}
	}
	if a := spanAttrs(spans[0]); a["oauth.grant_type"] != "client_credentials" || a["mcpauthz.outcome"] != "issued" || a["mcpauthz.client_id"] != "reporter" {
		t.Errorf("first grant span = %v", a)
	}
}
