package casbinauthz

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// policyTelemetry holds the Authorizer's instruments; the zero value
// records nothing.
type policyTelemetry struct {
	reloads     metric.Int64Counter
	version     metric.Int64Gauge
	ok, failure metric.MeasurementOption
	lookups     otelx.CacheLookups
}

func newPolicyTelemetry(mp metric.MeterProvider) (policyTelemetry, error) {
	var t policyTelemetry
	m := otelx.Meter(mp)
	if m == nil {
		return t, nil
	}
	var err error
	if t.lookups, err = otelx.NewCacheLookups(m, "decision"); err != nil {
		return t, err
	}
	if t.reloads, err = m.Int64Counter(otelx.MetricPolicyReloads, metric.WithUnit("{reload}"),
		metric.WithDescription("Policy loads by outcome: success (a new policy was swapped in) or failure (the last good policy stays).")); err != nil {
		return t, err
	}
	if t.version, err = m.Int64Gauge(otelx.MetricPolicyVersion, metric.WithUnit("{version}"),
		metric.WithDescription("Version of the live policy: 1 for the first, +1 per accepted reload.")); err != nil {
		return t, err
	}
	t.ok = metric.WithAttributeSet(attribute.NewSet(otelx.AttrOutcome.String("success")))
	t.failure = metric.WithAttributeSet(attribute.NewSet(otelx.AttrOutcome.String("failure")))
	return t, nil
}

// loaded records an accepted policy version.
func (t *policyTelemetry) loaded(ctx context.Context, version uint64) {
	if t.reloads == nil {
		return
	}
	t.reloads.Add(ctx, 1, t.ok)
	t.version.Record(ctx, int64(version))
}

// failed records a refused load.
func (t *policyTelemetry) failed() {
	if t.reloads == nil {
		return
	}
	t.reloads.Add(context.Background(), 1, t.failure)
}
