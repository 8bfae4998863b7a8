package core

import (
	"context"
	"net/http"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

func telemetryBenchGuard(t testing.TB, noop bool) *Guard {
	return newGuard(t, func(c *Config) {
		c.Verifier = fixedClaims{&Claims{Issuer: "https://idp.example", Subject: "alice", Scopes: []string{"mcp:tools"}, Expiry: time.Now().Add(time.Hour)}}
		c.Authorizer = allowAll{}
		c.Now = nil
		if noop {
			c.TracerProvider, c.MeterProvider = tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()
		}
	})
}

func telemetryBenchRequest() *Request {
	h := http.Header{}
	h.Set("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln")
	h.Set("Content-Type", "application/json")
	h.Set("Mcp-Protocol-Version", "2025-11-25")
	return &Request{Method: http.MethodPost, Path: "/mcp", Header: h,
		Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"path":"/tmp"}}}`)}
}

// With no-op providers, Check allocates exactly what it allocates without
// any provider: instrumentation is switched off, not run against no-ops.
// Not parallel: AllocsPerRun forbids it.
func TestNoopTelemetryAllocatesNothingExtra(t *testing.T) {
	ctx := context.Background()
	var allocs [2]float64
	for i, noop := range []bool{false, true} {
		g := telemetryBenchGuard(t, noop)
		allocs[i] = testing.AllocsPerRun(200, func() {
			if _, err := g.Check(ctx, telemetryBenchRequest()); err != nil {
				t.Fatal(err)
			}
		})
	}
	if allocs[1] != allocs[0] {
		t.Fatalf("allocs per Check: %v without providers, %v with no-op providers", allocs[0], allocs[1])
	}
}

// BenchmarkCheckTelemetry compares Check without providers and with no-op
// providers in one run (benchstat; oteltest has the SDK variant).
func BenchmarkCheckTelemetry(b *testing.B) {
	for _, tc := range []struct {
		name string
		noop bool
	}{{"telemetry=none", false}, {"telemetry=noop", true}} {
		b.Run(tc.name, func(b *testing.B) {
			g := telemetryBenchGuard(b, tc.noop)
			r := telemetryBenchRequest()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Check(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestSpanObjectNameBytesBounds(t *testing.T) {
	for _, tc := range []struct {
		n    int
		ok   bool
		want int
	}{
		{0, true, MaxLogField}, {-1, true, -1}, {MinSpanObjectNameBytes, true, MinSpanObjectNameBytes},
		{MaxSpanObjectNameBytes, true, MaxSpanObjectNameBytes}, {MinSpanObjectNameBytes - 1, false, 0}, {MaxSpanObjectNameBytes + 1, false, 0},
	} {
		cfg := testConfig()
		cfg.SpanObjectNameBytes = tc.n
		g, err := New(cfg)
		if (err == nil) != tc.ok {
			t.Fatalf("SpanObjectNameBytes %d: New = %v", tc.n, err)
		}
		if err == nil && g.tel.nameBytes != tc.want {
			t.Fatalf("SpanObjectNameBytes %d: bound %d, want %d", tc.n, g.tel.nameBytes, tc.want)
		}
	}
}
