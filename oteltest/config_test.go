package oteltest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// TestConfigTelemetrySwitches builds Guards with config.NewGuard from files
// whose telemetry section differs, always passing SDK providers in
// Options: the file's switches decide whether spans and metrics (Guard,
// verifier and policy) are recorded, and object_name_bytes bounds the
// object name in the check span.
func TestConfigTelemetrySwitches(t *testing.T) {
	t.Parallel()
	// A resource URI (up to 8 KiB) longer than every bound below.
	long := `{"jsonrpc":"2.0","id":8,"method":"resources/read","params":{"uri":"file:///` + strings.Repeat("x", 300) + `"}}`
	for _, tc := range []struct {
		name           string
		section        string
		spans, metrics bool
		nameLen        int // bound of mcpauthz.object.name; 0: absent
	}{
		{"default: both on", "", true, true, core.MaxLogField},
		{"traces off", "telemetry: {traces: false}\n", false, true, 0},
		{"metrics off", "telemetry: {metrics: false}\n", true, false, core.MaxLogField},
		{"both off", "telemetry: {traces: false, metrics: false}\n", false, false, 0},
		{"explicitly on, short names", "telemetry: {traces: true, metrics: true, providers: options, object_name_bytes: 80}\n", true, true, 80},
		{"names left out", "telemetry: {object_name_bytes: -1}\n", true, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idp := coretest.NewIdP(t)
			p := newProviders(t)
			dir := t.TempDir()
			yaml := "resource: " + resource + "\nissuers:\n  - issuer: " + idp.Issuer() + "\n    jwks_uri: " + idp.JWKSURL() +
				"\nmodel: scopes\npolicy: {files: [policy.csv]}\n" + tc.section
			for name, data := range map[string]string{"guard.yaml": yaml, "policy.csv": policyText} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			g, err := config.NewGuard(context.Background(), filepath.Join(dir, "guard.yaml"), config.Options{
				HTTPClient: idp.HTTPClient(), TracerProvider: p.tp, MeterProvider: p.mp})
			if err != nil {
				t.Fatal(err)
			}
			tok := idp.Token(resource, "alice", "mcp:tools")
			for _, body := range []string{toolCall("echo"), long} {
				m, h, b := mcpPost(tok, body)
				_, _ = g.Check(context.Background(), &core.Request{Method: m, Path: "/mcp", Header: h, Body: b})
			}

			var checks int
			nameLen, truncated := 0, false
			for _, s := range p.spans.Ended() {
				if s.Name() != core.SpanCheck {
					continue
				}
				checks++
				for _, kv := range s.Attributes() {
					if kv.Key == otelx.AttrObjectName {
						nameLen = max(nameLen, len(kv.Value.AsString()))
						truncated = truncated || strings.Contains(kv.Value.AsString(), "…[truncated ")
					}
				}
			}
			if got := checks > 0; got != tc.spans {
				t.Errorf("%d check spans, want spans %t", checks, tc.spans)
			}
			if nameLen > tc.nameLen || (tc.nameLen > 0) != truncated {
				t.Errorf("longest object name attribute %d bytes (truncated %t), want a truncated one ≤ %d (0: absent)", nameLen, truncated, tc.nameLen)
			}

			rm := p.collect(t)
			decisions := sum(t, rm, otelx.MetricDecisions, attribute.String("mcpauthz.decision", "allow"))
			fetches := sum(t, rm, otelx.MetricJWKSFetches)
			reloads := sum(t, rm, otelx.MetricPolicyReloads)
			if tc.metrics && (decisions != 1 || fetches < 1 || reloads != 1) {
				t.Errorf("metrics on: decisions(allow)=%d jwks fetches=%d policy reloads=%d, want 1, ≥1, 1", decisions, fetches, reloads)
			}
			if !tc.metrics && len(rm.ScopeMetrics) != 0 {
				t.Errorf("metrics off, but %d scopes recorded", len(rm.ScopeMetrics))
			}
		})
	}
}

// TestConfigTelemetryGlobal: providers: global is an explicit opt-in that
// refuses providers in Options too.
func TestConfigTelemetryGlobal(t *testing.T) {
	t.Parallel()
	p := newProviders(t)
	yaml := "resource: " + resource + "\nissuers: [{issuer: https://as.example.com, jwks_uri: https://as.example.com/jwks}]\nauthenticate_only: true\ntelemetry: {providers: global}\n"
	f, err := config.Parse([]byte(yaml), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Build(context.Background(), "", config.Options{MeterProvider: p.mp}); err == nil || !strings.Contains(err.Error(), "use one or the other") {
		t.Fatalf("global with Options providers: %v", err)
	}
	if _, err := f.Build(context.Background(), "", config.Options{}); err == nil || !strings.Contains(err.Error(), "GlobalTracerProvider") {
		t.Fatalf("global without the global getters: %v", err)
	}
	b, err := f.Build(context.Background(), "", config.Options{GlobalTracerProvider: otel.GetTracerProvider, GlobalMeterProvider: otel.GetMeterProvider})
	if err != nil {
		t.Fatal(err)
	}
	if b.Config.TracerProvider != otel.GetTracerProvider() || b.Config.MeterProvider != otel.GetMeterProvider() {
		t.Fatal("providers: global did not take OTel's global providers")
	}
	for _, bad := range []string{"telemetry: {providers: otlp}\n", "telemetry: {object_name_bytes: 10}\n", "telemetry: {object_name_bytes: 9000}\n", "telemetry: {trace: true}\n"} {
		if _, err := config.Parse([]byte(strings.Replace(yaml, "telemetry: {providers: global}\n", bad, 1)), config.Options{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
