package verifier

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// fetchCounter counts JWKS fetches per configured issuer and outcome; the
// zero value records nothing.
type fetchCounter struct{ c metric.Int64Counter }

func newFetchCounter(m metric.Meter) (fetchCounter, error) {
	in := otelx.NewInstruments(m)
	return fetchCounter{c: in.Counter(otelx.MetricJWKSFetches)}, in.Err()
}

// forIssuer returns the jose.RemoteKeySetConfig.OnFetch hook of one
// issuer (nil when metrics are off). The issuer attribute is the
// configured issuer, never a token's.
func (f fetchCounter) forIssuer(iss string) func(error) {
	if f.c == nil {
		return nil
	}
	ok := metric.WithAttributeSet(attribute.NewSet(otelx.AttrIssuer.String(iss), otelx.AttrOutcome.String("success")))
	fail := metric.WithAttributeSet(attribute.NewSet(otelx.AttrIssuer.String(iss), otelx.AttrOutcome.String("failure")))
	return func(err error) {
		if err != nil {
			f.c.Add(context.Background(), 1, fail)
			return
		}
		f.c.Add(context.Background(), 1, ok)
	}
}
