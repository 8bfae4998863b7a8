package casbinauthz

import (
	"context"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
)

// Ready reports whether a policy is loaded; it implements
// core.ReadinessChecker. A failed reload keeps the last good policy and
// does not make the Authorizer unready (Stats.LastError and the
// mcpauthz.policy.reloads metric report it). An Authorizer that started
// from its last-good file (Config.LastGoodPath) is not ready until a
// policy from its Source is in force; once that file is older than
// Config.LastGoodMaxAge it also stops deciding (every decision fails with
// core.ErrUnavailable) until then.
func (a *Authorizer) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := a.degradedErr(); err != nil {
		return err
	}
	if a.cur.Load() == nil {
		return fmt.Errorf("%w: %w", core.ErrUnavailable, errNoPolicy)
	}
	return nil
}
