package core

import (
	"context"
	"io"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// Span names of a Guard check: SpanCheck is the parent of one span per
// pipeline step; SpanFilter covers the filtering of one list response.
const (
	SpanCheck   = "mcpauthz.check"
	SpanVerify  = "mcpauthz.verify"
	SpanMap     = "mcpauthz.map"
	SpanInspect = "mcpauthz.inspect"
	SpanDecide  = "mcpauthz.decide"
	SpanFilter  = "mcpauthz.filter"
)

// telemetry is the Guard's OpenTelemetry instrumentation. Its zero value
// (no providers, or no-op ones) does nothing and costs nothing.
type telemetry struct {
	tracer    trace.Tracer            // nil: no spans
	decisions metric.Int64Counter     // nil: no metrics
	duration  metric.Float64Histogram // set with decisions
	nameBytes int                     // bound of AttrObjectName; < 0: left out
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (telemetry, error) {
	in := otelx.NewInstruments(otelx.Meter(mp))
	t := telemetry{tracer: otelx.Tracer(tp), decisions: in.Counter(otelx.MetricDecisions)}
	if t.decisions != nil {
		t.duration = in.Histogram(otelx.MetricCheckDuration)
	}
	return t, in.Err()
}

// timed reports whether Check must read the clock for the telemetry.
func (t *telemetry) timed() bool { return t.decisions != nil }

// step starts the span of one pipeline step (nil when tracing is off).
// The nil check is here, not only in otelx.Start, so that step is inlined
// and a Guard without tracing makes no call per step.
func (t *telemetry) step(ctx context.Context, name string) (context.Context, trace.Span) {
	if t.tracer == nil {
		return ctx, nil
	}
	return t.startStep(ctx, name)
}

// startStep is step with tracing on, kept out of line so that step stays
// within the inlining budget.
//
//go:noinline
func (t *telemetry) startStep(ctx context.Context, name string) (context.Context, trace.Span) {
	return otelx.Start(ctx, t.tracer, name, trace.SpanKindInternal)
}

// record counts the decision and ends the check span with its attributes.
// Only verified identities, the bounded method, the object kind, a
// truncated object name and the policy digest are recorded: never a token.
func (g *Guard) recordTelemetry(ctx context.Context, sp trace.Span, ev *DecisionEvent, e *Error) {
	t := &g.tel
	var errKind string
	if e != nil {
		errKind = string(e.Kind)
	}
	method := metricMethod(ev.Method)
	if t.decisions != nil {
		t.decisions.Add(ctx, 1, metric.WithAttributes(otelx.AttrDecision.String(ev.Decision),
			otelx.AttrMethod.String(method), otelx.AttrObjectKind.String(string(ev.ObjectKind)),
			otelx.AttrErrorKind.String(errKind)))
		t.duration.Record(ctx, ev.Latency.Seconds(), metric.WithAttributes(otelx.AttrDecision.String(ev.Decision)))
	}
	if sp == nil {
		return
	}
	attrs := []attribute.KeyValue{
		otelx.AttrDecision.String(ev.Decision),
		otelx.AttrStatus.Int(ev.Status),
		otelx.AttrMethod.String(method),
	}
	if ev.ObjectKind != "" {
		attrs = append(attrs, otelx.AttrObjectKind.String(string(ev.ObjectKind)))
	}
	if _, name, ok := strings.Cut(ev.Target, ":"); ok && t.nameBytes > 0 {
		attrs = append(attrs, otelx.AttrObjectName.String(TruncateField(name, t.nameBytes)))
	}
	for _, a := range [...]struct {
		k attribute.Key
		v string
	}{{otelx.AttrIssuer, ev.Issuer}, {otelx.AttrClientID, ev.ClientID}, {otelx.AttrPrincipalKind, string(ev.SubjectKind)}, {otelx.AttrErrorKind, errKind}} {
		if a.v != "" {
			attrs = append(attrs, a.k.String(TruncateField(a.v, MaxLogField)))
		}
	}
	if g.digester != nil {
		if d := g.digester.PolicyDigest(); d != "" {
			attrs = append(attrs, otelx.AttrPolicyDigest.String(d))
		}
	}
	sp.SetAttributes(attrs...)
	if ev.Decision != DecisionAllow {
		sp.SetStatus(codes.Error, errKind)
	}
	sp.End()
}

// metricMethod bounds the method attribute: a known MCP method or HTTP
// method as is, "batch" for several, "other" for anything else, so that
// callers cannot create metric series at will.
func metricMethod(m string) string {
	switch m {
	case "tools/call", "tools/list", "resources/read", "resources/list", "resources/templates/list",
		"resources/subscribe", "resources/unsubscribe", "prompts/get", "prompts/list", "completion/complete",
		"initialize", "ping", "server/discover", "notifications/initialized", "notifications/cancelled",
		"notifications/progress", "notifications/roots/list_changed", "logging/setLevel",
		"GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH":
		return m
	case "":
		return "none"
	}
	if strings.IndexByte(m, ',') >= 0 {
		return "batch"
	}
	return "other"
}

// nilIfNil turns a nil *Error into a nil error (not a typed nil).
func nilIfNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

// filterSpan returns the starter of a list response's SpanFilter span,
// a child of the check span in ctx; nil when tracing is off.
func (t *telemetry) filterSpan(ctx context.Context, list string) func() trace.Span {
	if t.tracer == nil {
		return nil
	}
	return func() trace.Span {
		_, sp := t.tracer.Start(ctx, SpanFilter, trace.WithAttributes(attribute.String("mcpauthz.filter.list", list)))
		return sp
	}
}

func (res *Result) startFilterSpan() trace.Span {
	if res.filterSpan == nil {
		return nil
	}
	return res.filterSpan()
}

// spanCloser ends the filter span of a streamed list response on Close.
type spanCloser struct {
	io.WriteCloser
	sp trace.Span
}

func (s *spanCloser) Close() error {
	err := s.WriteCloser.Close()
	otelx.End(s.sp, err)
	return err
}
