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
// span at no cost.
func Start(ctx context.Context, t trace.Tracer, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	if t == nil {
		return ctx, nil
	}
	return t.Start(ctx, name, trace.WithSpanKind(kind))
}

// End ends sp (nil: nothing), recording err as its status. The error text
// is not recorded (it may carry caller-supplied bytes); only its class.
func End(sp trace.Span, err error) {
	if sp == nil {
		return
	}
	if err != nil {
		sp.SetStatus(codes.Error, "")
	}
	sp.End()
}

// CacheLookups is a cache hit/miss counter for one named cache; the zero
// value (no meter) records nothing.
type CacheLookups struct {
	c         metric.Int64Counter
	hit, miss metric.MeasurementOption
}

// NewCacheLookups creates the lookup counter of cache on m (nil: disabled).
func NewCacheLookups(m metric.Meter, cache string) (CacheLookups, error) {
	if m == nil {
		return CacheLookups{}, nil
	}
	c, err := m.Int64Counter(MetricCacheLookups, metric.WithUnit("{lookup}"),
		metric.WithDescription("Cache lookups by cache and result (hit or miss)."))
	if err != nil {
		return CacheLookups{}, err
	}
	return CacheLookups{c: c,
		hit:  metric.WithAttributeSet(attribute.NewSet(AttrCache.String(cache), AttrResult.String("hit"))),
		miss: metric.WithAttributeSet(attribute.NewSet(AttrCache.String(cache), AttrResult.String("miss"))),
	}, nil
}

// Record counts one lookup.
func (l CacheLookups) Record(ctx context.Context, hit bool) {
	if l.c == nil {
		return
	}
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
