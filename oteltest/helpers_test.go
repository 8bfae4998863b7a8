package oteltest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// providers is an SDK tracer provider recording in memory and a meter
// provider read by hand.
type providers struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newProviders(t testing.TB) *providers {
	t.Helper()
	p := &providers{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	p.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p.spans))
	p.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(p.reader))
	t.Cleanup(func() {
		_ = p.tp.Shutdown(context.Background())
		_ = p.mp.Shutdown(context.Background())
	})
	return p
}

func (p *providers) collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// sum returns the value of the int64 counter or gauge name at the data
// point whose attributes include every key=value of want (summed over all
// matching points).
func sum(t testing.TB, rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			var pts []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				pts = d.DataPoints
			case metricdata.Gauge[int64]:
				pts = d.DataPoints
			default:
				t.Fatalf("%s: unexpected data %T", name, m.Data)
			}
			for _, dp := range pts {
				if hasAll(dp.Attributes, want) {
					total += dp.Value
				}
			}
		}
	}
	return total
}

// histogramCount is the number of recordings of histogram name.
func histogramCount(t testing.TB, rm metricdata.ResourceMetrics, name string) uint64 {
	t.Helper()
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					n += dp.Count
				}
			}
		}
	}
	return n
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func mcpPost(token, body string) (string, http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	h.Set("Mcp-Protocol-Version", "2025-11-25")
	h.Set("Authorization", "Bearer "+token)
	return http.MethodPost, h, []byte(body)
}

func toolCall(name string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"` + name + `","arguments":{}}}`
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// The documented names (docs/operations.md), spelled out here so that a
// rename breaks this test.
const (
	MetricDecisions      = "mcpauthz.guard.decisions"
	MetricCheckDuration  = "mcpauthz.guard.check.duration"
	MetricJWKSFetches    = "mcpauthz.jwks.fetches"
	MetricCacheLookups   = "mcpauthz.cache.lookups"
	MetricPolicyReloads  = "mcpauthz.policy.reloads"
	MetricPolicyVersion  = "mcpauthz.policy.version"
	MetricGrants         = "mcpauthz.as.grants"
	MetricReplaysRefused = "mcpauthz.as.replays_refused"
	MetricRateLimited    = "mcpauthz.as.rate_limited"

	AttrDecision   = attribute.Key("mcpauthz.decision")
	AttrMethod     = attribute.Key("mcp.method.name")
	AttrObjectKind = attribute.Key("mcpauthz.object.kind")
	AttrErrorKind  = attribute.Key("mcpauthz.error.kind")
	AttrIssuer     = attribute.Key("mcpauthz.issuer")
	AttrOutcome    = attribute.Key("mcpauthz.outcome")
	AttrCache      = attribute.Key("mcpauthz.cache")
	AttrResult     = attribute.Key("mcpauthz.cache.result")
	AttrGrantType  = attribute.Key("oauth.grant_type")
)
