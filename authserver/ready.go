package authserver

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/mcpauthz/mcpauthz/core"
)

// ErrNotReady is wrapped by every error of [Server.Ready].
var ErrNotReady = errors.New("authserver: not ready")

// Ready reports whether the server can issue tokens: a signing key is
// loaded, the replay store, the rate limiter, and the refresh token,
// consent and registered client stores answer (when they have a Ready
// method, like the shared stores), and the
// key set of every trusted IdP with a JWKS URL is loaded or obtainable now
// (one fetch per 30 s cooldown at most), and, with Config.KeyCheck, this
// replica's signing keys agree with the other replicas' ([KeyCheck]). It implements
// core.ReadinessChecker, so core.ReadyHandler serves it.
func (s *Server) Ready(ctx context.Context) error {
	var errs []error
	if ks := s.keys.Load(); ks == nil || ks.current == nil {
		errs = append(errs, errors.New("no signing key loaded"))
	} else if s.keyCheck != nil {
		if err := s.keyCheck.check(ctx, ks, s.now()); err != nil {
			errs = append(errs, err)
		}
	}
	if rc, ok := s.replay.(core.ReadinessChecker); ok {
		if err := rc.Ready(ctx); err != nil {
			errs = append(errs, fmt.Errorf("replay store: %w", err))
		}
	}
	if s.limits != nil && !sameValue(s.limits.store, s.replay) {
		if rc, ok := s.limits.store.(core.ReadinessChecker); ok {
			if err := rc.Ready(ctx); err != nil {
				errs = append(errs, fmt.Errorf("rate limiter: %w", err))
			}
		}
	}
	if s.broker != nil {
		stores := []struct {
			name  string
			store any
		}{{"refresh token store", s.broker.refresh}, {"consent store", s.broker.consents}}
		if s.registrar != nil {
			stores = append(stores, struct {
				name  string
				store any
			}{"registered client store", s.registrar.store})
		}
		for _, st := range stores {
			if rc, ok := st.store.(core.ReadinessChecker); ok {
				if err := rc.Ready(ctx); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", st.name, err))
				}
			}
		}
	}
	names := make([]string, 0, len(s.idps))
	for n := range s.idps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if rc, ok := s.idps[n].keys.(core.ReadinessChecker); ok {
			if err := rc.Ready(ctx); err != nil {
				errs = append(errs, fmt.Errorf("trusted IdP %q: %w", s.idps[n].issuer, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrNotReady, errors.Join(errs...))
	}
	return nil
}
