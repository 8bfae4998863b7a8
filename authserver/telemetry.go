package authserver

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// SpanGrant is the name of the span of one token request.
const SpanGrant = "mcpauthz.as.grant"

// telemetry holds the Server's instruments; the zero value (no providers,
// or no-op ones) records nothing.
type telemetry struct {
	tracer      trace.Tracer
	grants      metric.Int64Counter // nil: no metrics
	replays     metric.Int64Counter
	rateLimited metric.Int64Counter
	keyChecks   metric.Int64Counter
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (telemetry, error) {
	in := otelx.NewInstruments(otelx.Meter(mp))
	t := telemetry{tracer: otelx.Tracer(tp), grants: in.Counter(otelx.MetricGrants),
		replays: in.Counter(otelx.MetricReplaysRefused), rateLimited: in.Counter(otelx.MetricRateLimited),
		keyChecks: in.Counter(otelx.MetricKeyChecks)}
	return t, in.Err()
}

// grantType bounds the grant_type attribute to the supported values.
func grantType(gt string) string {
	switch gt {
	case GrantClientCredentials, GrantJWTBearer:
		return gt
	case "":
		return "none"
	}
	return "other"
}

// record counts one token request decision and annotates its span. It
// records identifiers only: never a secret, an assertion or a token.
func (t *telemetry) record(ctx context.Context, ev *auditEvent, oe *oauthError) {
	outcome := "issued"
	if oe != nil {
		outcome = oe.code
	}
	gt := grantType(ev.grantType)
	if t.grants != nil {
		t.grants.Add(ctx, 1, metric.WithAttributes(otelx.AttrGrantType.String(gt), otelx.AttrOutcome.String(outcome)))
		if oe != nil && oe.status == http.StatusTooManyRequests {
			t.rateLimited.Add(ctx, 1)
		}
		if oe != nil && errors.Is(oe.cause, errReplayed) {
			kind := "id_jag"
			if oe.code == codeInvalidClient {
				kind = "client_assertion"
			}
			t.replays.Add(ctx, 1, metric.WithAttributes(otelx.AttrReplayKind.String(kind)))
		}
	}
	if t.tracer == nil {
		return
	}
	sp := trace.SpanFromContext(ctx)
	sp.SetAttributes(otelx.AttrGrantType.String(gt), otelx.AttrOutcome.String(outcome),
		otelx.AttrClientID.String(core.TruncateField(ev.clientID, core.MaxLogField)))
	if ev.iss != "" {
		sp.SetAttributes(otelx.AttrIssuer.String(core.TruncateField(ev.iss, core.MaxLogField)))
	}
	if oe != nil {
		sp.SetAttributes(attribute.Int("http.response.status_code", oe.status))
		sp.SetStatus(codes.Error, oe.code)
	}
}
