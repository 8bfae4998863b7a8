package oteltest

import (
	"context"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// BenchmarkCheckSDK is Check of an allowed tools/call (verification-cache
// hit, casbin decision-cache hit) without providers and with the SDK
// recording every span and metric, in one run.
func BenchmarkCheckSDK(b *testing.B) {
	for _, name := range []string{"telemetry=none", "telemetry=sdk"} {
		b.Run(name, func(b *testing.B) {
			st := newStackFor(b, name == "telemetry=sdk", true)
			tok := st.idp.Token(resource, "alice", "mcp:tools")
			m, h, body := mcpPost(tok, toolCall("echo"))
			r := &core.Request{Method: m, Path: "/mcp", Header: h, Body: body}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.g.Check(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
