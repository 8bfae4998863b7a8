// Package otelx holds what every instrumented package of mcpauthz shares:
// the instrumentation scope, the metric and attribute names, and the rule
// that a nil or no-op provider switches instrumentation off entirely, so
// that an uninstrumented hot path does no extra work and no allocation.
//
// Only the OpenTelemetry API is imported; exporters and the SDK belong to
// the application.
package otelx

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every tracer and meter.
const ScopeName = "github.com/mcpauthz/mcpauthz"

// Metric names (OpenTelemetry; a Prometheus exporter turns dots into
// underscores and adds _total to counters and the unit to histograms).
const (
	MetricDecisions      = "mcpauthz.guard.decisions"      // counter: decision, method, object kind, error kind
	MetricCheckDuration  = "mcpauthz.guard.check.duration" // histogram, seconds: decision
	MetricJWKSFetches    = "mcpauthz.jwks.fetches"         // counter: issuer, outcome
	MetricCacheLookups   = "mcpauthz.cache.lookups"        // counter: cache, result
	MetricPolicyReloads  = "mcpauthz.policy.reloads"       // counter: outcome
	MetricPolicyVersion  = "mcpauthz.policy.version"       // gauge: live policy version
	MetricGrants         = "mcpauthz.as.grants"            // counter: grant type, outcome
	MetricReplaysRefused = "mcpauthz.as.replays_refused"   // counter: what was replayed
	MetricRateLimited    = "mcpauthz.as.rate_limited"      // counter: requests refused with 429
	MetricKeyChecks      = "mcpauthz.as.key_checks"        // counter: outcome (ok, minority, missing, stale, unknown)
)

// Attribute keys.
const (
	AttrDecision      = attribute.Key("mcpauthz.decision")    // allow, deny, error
	AttrMethod        = attribute.Key("mcp.method.name")      // bounded: see Method
	AttrObjectKind    = attribute.Key("mcpauthz.object.kind") // tool, resource, prompt, server
	AttrObjectName    = attribute.Key("mcpauthz.object.name") // spans only, truncated
	AttrErrorKind     = attribute.Key("mcpauthz.error.kind")  // refusal kind (invalid_token, forbidden, ...)
	AttrStatus        = attribute.Key("http.response.status_code")
	AttrIssuer        = attribute.Key("mcpauthz.issuer")         // configured issuer
	AttrClientID      = attribute.Key("mcpauthz.client_id")      // spans only
	AttrPrincipalKind = attribute.Key("mcpauthz.principal.kind") // user, client
	AttrPolicyDigest  = attribute.Key("mcpauthz.policy.digest")  // spans only
	AttrOutcome       = attribute.Key("mcpauthz.outcome")        // success, failure; grants: issued or the OAuth error code
	AttrCache         = attribute.Key("mcpauthz.cache")          // verification, decision, introspection
	AttrResult        = attribute.Key("mcpauthz.cache.result")   // hit, miss
	AttrGrantType     = attribute.Key("oauth.grant_type")        // bounded: see GrantType
	AttrReplayKind    = attribute.Key("mcpauthz.replay.kind")    // client_assertion, id_jag
)

// Tracer returns the scope's tracer, or nil when tp is nil or a no-op
// provider: callers skip all span work on a nil Tracer.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	switch tp.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return nil
	}
	return tp.Tracer(ScopeName)
}

// Meter returns the scope's meter, or nil when mp is nil or a no-op
// provider: callers skip all metric work on a nil Meter.
func Meter(mp metric.MeterProvider) metric.Meter {
	switch mp.(type) {
	case nil, metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return nil
	}
	return mp.Meter(ScopeName)
}

// Start starts a span when t is non-nil; otherwise it returns ctx and a nil
// span at no cost: Start is small enough to be inlined, so a disabled
// tracer costs its caller one comparison and no call.
func Start(ctx context.Context, t trace.Tracer, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	if t == nil {
		return ctx, nil
	}
	return start(ctx, t, name, kind)
}

func start(ctx context.Context, t trace.Tracer, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	return t.Start(ctx, name, trace.WithSpanKind(kind))
}

// End ends sp (nil: nothing), recording err as its status. The error text
// is not recorded (it may carry caller-supplied bytes); only its class.
// Like Start it is inlined, so a nil span costs no call.
func End(sp trace.Span, err error) {
	if sp != nil {
		end(sp, err)
	}
}

func end(sp trace.Span, err error) {
	if err != nil {
		sp.SetStatus(codes.Error, "")
	}
	sp.End()
}

// instrument is the unit, description and (histograms) bucket bounds of
// one metric name, so that every package creates it the same way.
type instrument struct {
	unit, desc string
	bounds     []float64
}

// instruments describes every metric name above.
var instruments = map[string]instrument{
	MetricDecisions:      {unit: "{request}", desc: "Guard decisions by decision (allow, deny, error), MCP method, object kind and refusal kind."},
	MetricCheckDuration:  {unit: "s", desc: "Duration of Guard.Check (verification, mapping, inspection, decisions).", bounds: []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}},
	MetricJWKSFetches:    {unit: "{fetch}", desc: "JWKS fetches by configured issuer and outcome (success or failure)."},
	MetricCacheLookups:   {unit: "{lookup}", desc: "Cache lookups by cache and result (hit or miss)."},
	MetricPolicyReloads:  {unit: "{reload}", desc: "Policy loads by outcome: success (a new policy was swapped in) or failure (the last good policy stays)."},
	MetricPolicyVersion:  {unit: "{version}", desc: "Version of the live policy: 1 for the first, +1 per accepted reload."},
	MetricGrants:         {unit: "{request}", desc: "Token requests by grant type and outcome (issued, or the OAuth error code)."},
	MetricReplaysRefused: {unit: "{request}", desc: "Token requests refused because their client assertion or ID-JAG had been used before."},
	MetricRateLimited:    {unit: "{request}", desc: "Token requests refused with 429 by the per-client rate limit."},
	MetricKeyChecks:      {unit: "{check}", desc: "Signing key checks against the other replicas by outcome: ok, minority (this replica signs with a key most replicas do not publish), missing (it does not publish a key most replicas sign with), stale (it publishes a key the others retired), unknown (the key registry did not answer)."},
}

// Instruments creates the instruments of one component on one meter. It
// keeps the first error, so that a constructor creates all of its
// instruments and checks once (Err). With a nil meter every method returns
// nil, which instrumented code reads as "metrics off".
type Instruments struct {
	m   metric.Meter
	err error
}

// NewInstruments returns the instrument factory of m (nil: metrics off).
func NewInstruments(m metric.Meter) *Instruments { return &Instruments{m: m} }

// Err is the first error of an instrument creation.
func (in *Instruments) Err() error { return in.err }

// create makes the instrument name with mk, or returns nil when metrics
// are off or an earlier creation failed.
func create[T any](in *Instruments, name string, mk func(instrument) (T, error)) T {
	var zero T
	if in.m == nil || in.err != nil {
		return zero
	}
	v, err := mk(instruments[name])
	if err != nil {
		in.err = err
		return zero
	}
	return v
}

// Counter creates the Int64Counter name (nil when metrics are off).
func (in *Instruments) Counter(name string) metric.Int64Counter {
	return create(in, name, func(s instrument) (metric.Int64Counter, error) {
		return in.m.Int64Counter(name, metric.WithUnit(s.unit), metric.WithDescription(s.desc))
	})
}

// Histogram creates the Float64Histogram name (nil when metrics are off).
func (in *Instruments) Histogram(name string) metric.Float64Histogram {
	return create(in, name, func(s instrument) (metric.Float64Histogram, error) {
		return in.m.Float64Histogram(name, metric.WithUnit(s.unit), metric.WithDescription(s.desc),
			metric.WithExplicitBucketBoundaries(s.bounds...))
	})
}

// Gauge creates the Int64Gauge name (nil when metrics are off).
func (in *Instruments) Gauge(name string) metric.Int64Gauge {
	return create(in, name, func(s instrument) (metric.Int64Gauge, error) {
		return in.m.Int64Gauge(name, metric.WithUnit(s.unit), metric.WithDescription(s.desc))
	})
}

// CacheLookups is a cache hit/miss counter for one named cache; the zero
// value (no meter) records nothing.
type CacheLookups struct {
	c         metric.Int64Counter
	hit, miss metric.MeasurementOption
}

// CacheLookups creates the lookup counter of cache.
func (in *Instruments) CacheLookups(cache string) CacheLookups {
	c := in.Counter(MetricCacheLookups)
	if c == nil {
		return CacheLookups{}
	}
	return CacheLookups{c: c,
		hit:  metric.WithAttributeSet(attribute.NewSet(AttrCache.String(cache), AttrResult.String("hit"))),
		miss: metric.WithAttributeSet(attribute.NewSet(AttrCache.String(cache), AttrResult.String("miss"))),
	}
}

// NewCacheLookups creates the lookup counter of cache on m (nil: disabled).
func NewCacheLookups(m metric.Meter, cache string) (CacheLookups, error) {
	in := NewInstruments(m)
	l := in.CacheLookups(cache)
	return l, in.Err()
}

// Record counts one lookup. Without a counter it is a nil check inlined
// at the call site (caches record on every hit).
func (l *CacheLookups) Record(ctx context.Context, hit bool) {
	if l.c != nil {
		l.add(ctx, hit)
	}
}

func (l *CacheLookups) add(ctx context.Context, hit bool) {
	if hit {
		l.c.Add(ctx, 1, l.hit)
	} else {
		l.c.Add(ctx, 1, l.miss)
	}
}

// Outcome is "success" for a nil error, "failure" otherwise.
func Outcome(err error) string {
	if err != nil {
		return "failure"
	}
	return "success"
}
