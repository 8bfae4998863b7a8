package casbinauthz

import (
	"context"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
)

// Ready reports whether a policy is loaded; it implements
// core.ReadinessChecker. A failed reload keeps the last good policy and
// does not make the Authorizer unready (Stats.LastError and the
// mcpauthz.policy.reloads metric report it).
func (a *Authorizer) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.cur.Load() == nil {
		return fmt.Errorf("%w: %w", core.ErrUnavailable, errNoPolicy)
	}
	return nil
}
