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
	in := otelx.NewInstruments(otelx.Meter(mp))
	t := policyTelemetry{lookups: in.CacheLookups("decision"), reloads: in.Counter(otelx.MetricPolicyReloads),
		version: in.Gauge(otelx.MetricPolicyVersion),
		ok:      metric.WithAttributeSet(attribute.NewSet(otelx.AttrOutcome.String("success"))),
		failure: metric.WithAttributeSet(attribute.NewSet(otelx.AttrOutcome.String("failure")))}
	return t, in.Err()
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
