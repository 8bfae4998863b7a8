package casbinauthz

// PolicyDigest names the live policy: the hex SHA-256 of the policy text
// the Source returned (the same value as Decision.PolicyDigest), or "" for
// an Authorizer built around a caller-supplied Enforcer. It implements
// core.PolicyDigester, so audit records of requests refused before a
// decision, and trace spans, say which policy was live.
func (a *Authorizer) PolicyDigest() string {
	s := a.cur.Load()
	if s == nil {
		return ""
	}
	return s.digest()
}
