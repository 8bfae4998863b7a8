package introspect

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
)

// readyFlight is the single-flight key of Ready; token keys are 32-byte
// digests, so it never collides with one.
const readyFlight = "ready"

// ProbeTokenPrefix starts every token Ready introspects, so that the
// authorization server's logs can tell readiness probes from callers.
const ProbeTokenPrefix = "mcpauthz-readiness-probe."

var _ core.ReadinessChecker = (*Verifier)(nil)

// Ready reports whether the endpoint answers introspection requests from
// this resource server now, without spending a real token: it introspects
// a fresh random token that no authorization server issued
// (ProbeTokenPrefix + 22 random base64url characters) and requires what an
// RFC 7662 endpoint answers an authenticated client about an unknown
// token: HTTP 200, application/json, a strict JSON object with "active":
// false. So ready means reachable, authenticated (the client credentials
// are accepted) and answering sanely. Not ready, each wrapping
// core.ErrUnavailable:
//   - a transport error, or no answer within Config.Timeout (or ctx's
//     deadline, if sooner);
//   - 401 or 403: the endpoint refuses the client credentials (RFC 7662
//     §2.3), so every Verify would fail too;
//   - any other status, content type, oversized or non-strict body, or a
//     missing "active";
//   - "active": true for the random probe: the endpoint does not check
//     tokens, and none of its answers can be trusted.
//
// Ready follows the failure backoff of Verify (Config.BackoffInitial):
// while the endpoint is held as failing it answers not ready without a
// request; when the step ends its probe is the step's one request, and a
// good answer ends the backoff. A pod taken out of rotation during an
// outage therefore becomes ready again through its readiness probes alone.
// Concurrent calls share one request; probe answers are neither cached nor
// counted in the cache metrics. Guard.Ready calls it when the Guard's
// Verifier is this Verifier.
func (v *Verifier) Ready(ctx context.Context) error {
	ch := v.flight.DoChan(readyFlight, func() (any, error) {
		if err := v.back.allow(v.cfg.Now()); err != nil {
			return nil, err
		}
		// Like Verify: the shared request outlives a caller's short deadline.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.cfg.Timeout)
		defer cancel()
		err := v.probe(rctx)
		v.back.done(v.cfg.Now(), err != nil)
		return nil, err
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return fmt.Errorf("%w: introspection readiness probe: %w", core.ErrUnavailable, ctx.Err())
	}
}

// probe introspects one random token and checks the answer.
func (v *Verifier) probe(ctx context.Context) error {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	body, err := v.post(ctx, ProbeTokenPrefix+base64.RawURLEncoding.EncodeToString(b[:]))
	if err != nil {
		return err
	}
	r, _, err := parseResponse(body)
	if err != nil {
		return err
	}
	if *r.Active {
		return fmt.Errorf("%w: introspection endpoint %s reports a random probe token active", core.ErrUnavailable, v.cfg.Endpoint)
	}
	return nil
}
