package oteltest

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const resource = "https://mcp.example.com/mcp"

const policyText = `p, *, server, connect, allow
p, *, *, list, allow
p, *, tool:echo, call, allow
p2, mcp:tools, tool:*, call
`

type stack struct {
	idp   *coretest.IdP
	g     *core.Guard
	authz *casbinauthz.Authorizer
	src   *source
	p     *providers
}

type source struct{ text string }

func (s *source) Load(context.Context) ([]byte, error) { return []byte(s.text), nil }

func newStack(t testing.TB, instrumented bool) *stack { return newStackFor(t, instrumented, false) }

func newStackFor(t testing.TB, instrumented, bench bool) *stack {
	t.Helper()
	st := &stack{idp: coretest.NewIdP(t), p: newProviders(t), src: &source{text: policyText}}
	cfg := core.Config{Resource: resource}
	vcfg := st.idp.VerifierConfig(resource)
	acfg := casbinauthz.Config{Source: st.src}
	if instrumented {
		vcfg.MeterProvider, acfg.MeterProvider = st.p.mp, st.p.mp
		cfg.TracerProvider, cfg.MeterProvider = st.p.tp, st.p.mp
		if bench {
			// Spans are sampled and built, then dropped: a recorder
			// would grow with b.N.
			tp := sdktrace.NewTracerProvider()
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			cfg.TracerProvider = tp
		}
	}
	v, err := verifier.New(context.Background(), vcfg)
	if err != nil {
		t.Fatal(err)
	}
	model, err := casbinmodels.Model("scopes")
	if err != nil {
		t.Fatal(err)
	}
	acfg.Model = model
	st.authz, err = casbinauthz.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier, cfg.Authorizer = v, st.authz
	cfg.Metadata = core.ProtectedResourceMetadata{AuthorizationServers: []string{st.idp.Issuer()}}
	st.g, err = core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (st *stack) check(t *testing.T, token, body string) (*core.Result, error) {
	t.Helper()
	m, h, b := mcpPost(token, body)
	return st.g.Check(context.Background(), &core.Request{Method: m, Path: "/mcp", Header: h, Body: b})
}

func TestGuardSpansAndMetrics(t *testing.T) {
	t.Parallel()
	st := newStack(t, true)
	tok := st.idp.Token(resource, "alice", "mcp:tools")
	bad := st.idp.WrongAudienceToken("mallory")

	// The tour: two allowed calls (the second a verification-cache hit),
	// one policy denial, one refused token, one filtered list.
	for i := 0; i < 2; i++ {
		if _, err := st.check(t, tok, toolCall("echo")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.check(t, tok, toolCall("deploy")); err == nil {
		t.Fatal("deploy allowed")
	}
	if _, err := st.check(t, bad, toolCall("echo")); err == nil {
		t.Fatal("wrong audience allowed")
	}
	res, err := st.check(t, tok, `{"jsonrpc":"2.0","id":"L","method":"tools/list","params":{}}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := res.FilterBody("application/json", []byte(`{"jsonrpc":"2.0","id":"L","result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"deploy","inputSchema":{"type":"object"}}]}}`))
	if err != nil || strings.Contains(string(out), "deploy") {
		t.Fatalf("filter: %s %v", out, err)
	}

	// Spans.
	ended := st.p.spans.Ended()
	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range ended {
		byName[s.Name()] = append(byName[s.Name()], s)
		for _, kv := range s.Attributes() {
			if containsAny(kv.Value.String(), tok, bad, tok[strings.LastIndexByte(tok, '.')+1:]) {
				t.Fatalf("span %s attribute %s carries token bytes", s.Name(), kv.Key)
			}
		}
	}
	if n := len(byName[core.SpanCheck]); n != 5 {
		t.Fatalf("%d check spans, want 5", n)
	}
	first := byName[core.SpanCheck][0]
	for _, child := range []string{core.SpanVerify, core.SpanMap, core.SpanInspect, core.SpanDecide} {
		found := false
		for _, s := range byName[child] {
			if s.Parent().SpanID() == first.SpanContext().SpanID() {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s span under the first check span", child)
		}
	}
	want := map[string]string{
		"mcpauthz.decision": "allow", "mcp.method.name": "tools/call", "mcpauthz.object.kind": "tool",
		"mcpauthz.object.name": "echo", "mcpauthz.issuer": st.idp.Issuer(), "mcpauthz.client_id": "test-client",
		"mcpauthz.principal.kind": "user", "mcpauthz.policy.digest": st.authz.PolicyDigest(),
		"http.response.status_code": "200",
	}
	got := spanAttrs(first)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("check span %s = %q, want %q", k, got[k], v)
		}
	}
	denied := spanAttrs(byName[core.SpanCheck][2])
	if denied["mcpauthz.decision"] != "deny" || denied["mcpauthz.error.kind"] != string(core.KindForbidden) || denied["mcpauthz.object.name"] != "deploy" {
		t.Errorf("denied span = %v", denied)
	}
	if f := byName[core.SpanFilter]; len(f) != 1 || f[0].Parent().SpanID() != byName[core.SpanCheck][4].SpanContext().SpanID() {
		t.Errorf("filter spans = %d, want 1 under the list check", len(f))
	}

	// Metrics.
	rm := st.p.collect(t)
	for _, c := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{MetricDecisions, []attribute.KeyValue{AttrDecision.String("allow"), AttrMethod.String("tools/call"), AttrObjectKind.String("tool")}, 2},
		{MetricDecisions, []attribute.KeyValue{AttrDecision.String("allow"), AttrMethod.String("tools/list")}, 1},
		{MetricDecisions, []attribute.KeyValue{AttrDecision.String("deny"), AttrErrorKind.String(string(core.KindForbidden))}, 1},
		{MetricDecisions, []attribute.KeyValue{AttrDecision.String("deny"), AttrErrorKind.String(string(core.KindInvalidToken))}, 1},
		{MetricJWKSFetches, []attribute.KeyValue{AttrIssuer.String(st.idp.Issuer()), AttrOutcome.String("success")}, 1},
		{MetricJWKSFetches, []attribute.KeyValue{AttrOutcome.String("failure")}, 0},
		{MetricCacheLookups, []attribute.KeyValue{AttrCache.String("verification"), AttrResult.String("miss")}, 2}, // tok once, bad once
		{MetricCacheLookups, []attribute.KeyValue{AttrCache.String("verification"), AttrResult.String("hit")}, 3},
		{MetricPolicyReloads, []attribute.KeyValue{AttrOutcome.String("success")}, 1},
		{MetricPolicyVersion, nil, 1},
	} {
		if got := sum(t, rm, c.name, c.attrs...); got != c.want {
			t.Errorf("%s%v = %d, want %d", c.name, c.attrs, got, c.want)
		}
	}
	if n := sum(t, rm, MetricCacheLookups, AttrCache.String("decision")); n == 0 {
		t.Errorf("no decision cache lookups")
	}
	if n := histogramCount(t, rm, MetricCheckDuration); n != 5 {
		t.Errorf("check duration recorded %d times, want 5", n)
	}

	// A reload that changes the policy and one that fails.
	st.src.text = policyText + "p, *, tool:ls, call, allow\n"
	if err := st.authz.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.src.text = "p, *, tool:[, call, allow\n"
	if err := st.authz.Reload(context.Background()); err == nil {
		t.Fatal("broken policy accepted")
	}
	rm = st.p.collect(t)
	if s, f, v := sum(t, rm, MetricPolicyReloads, AttrOutcome.String("success")), sum(t, rm, MetricPolicyReloads, AttrOutcome.String("failure")), sum(t, rm, MetricPolicyVersion); s != 2 || f != 1 || v != 2 {
		t.Errorf("reloads success=%d failure=%d version=%d, want 2 1 2", s, f, v)
	}
}

// A JWKS endpoint that is down is counted as a failed fetch of its issuer.
func TestJWKSFetchFailuresCounted(t *testing.T) {
	t.Parallel()
	st := newStack(t, true)
	st.idp.SetJWKSDown(true)
	if _, err := st.check(t, st.idp.Token(resource, "alice", "mcp:tools"), toolCall("echo")); err == nil {
		t.Fatal("allowed without keys")
	}
	rm := st.p.collect(t)
	if n := sum(t, rm, MetricJWKSFetches, AttrIssuer.String(st.idp.Issuer()), AttrOutcome.String("failure")); n != 1 {
		t.Fatalf("failed fetches = %d, want 1", n)
	}
	if n := sum(t, rm, MetricDecisions, AttrDecision.String("error"), AttrErrorKind.String(string(core.KindUnavailable))); n != 1 {
		t.Fatalf("error decisions = %d, want 1", n)
	}
}
