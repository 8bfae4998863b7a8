package casbinauthz

// Enforcer is the one Casbin method the authorizer needs. Both casbin/v2 and
// casbin/v3 *Enforcer (and their Synced/Cached variants) satisfy it.
type Enforcer interface {
	Enforce(rvals ...any) (bool, error)
}

// ExplainingEnforcer is an [Enforcer] that also reports the rule that
// decided, as Casbin's EnforceEx does. When a configured Enforcer implements
// it, Decision.Rule is filled in.
type ExplainingEnforcer interface {
	Enforcer
	EnforceEx(rvals ...any) (bool, []string, error)
}
