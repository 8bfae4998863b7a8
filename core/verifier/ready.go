package verifier

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
)

// Ready reports whether every issuer's keys are loaded or obtainable now:
// a static JWKS always is; a JWKSURL or discovery issuer is when its key
// set was fetched (and is not older than the 24 h stale limit) or a fetch
// started by Ready succeeds (at most one attempt per 30 s cooldown); an
// injected KeySet is when it has no Ready method or its Ready returns nil.
// The error wraps core.ErrUnavailable and names every failing issuer. It
// implements core.ReadinessChecker.
func (v *Verifier) Ready(ctx context.Context) error {
	var errs []error
	check := func(is *issuer) {
		if rc, ok := is.keys.(core.ReadinessChecker); ok {
			if err := rc.Ready(ctx); err != nil {
				errs = append(errs, fmt.Errorf("issuer %q: %w", is.name, err))
			}
		}
	}
	for _, is := range v.exact {
		check(is)
	}
	for _, is := range v.templates {
		check(is)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", core.ErrUnavailable, errors.Join(errs...))
	}
	return nil
}

// Ready resolves the metadata (at most once per cooldown) and reports the
// readiness of the discovered key set.
func (d *discoveryKeySet) Ready(ctx context.Context) error {
	ks, err := d.resolve(ctx)
	if err != nil {
		return err
	}
	return ks.Ready(ctx)
}
