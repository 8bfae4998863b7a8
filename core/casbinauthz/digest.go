package casbinauthz

import "encoding/hex"

// PolicyDigest names the live policy: "sha256:" and the hex SHA-256 of the
// policy text the Source returned, or "" for an Authorizer built around a
// caller-supplied Enforcer. It implements core.PolicyDigester, so audit
// records and trace spans say which policy decided.
func (a *Authorizer) PolicyDigest() string {
	s := a.cur.Load()
	if s == nil || s.hash == ([32]byte{}) {
		return ""
	}
	return "sha256:" + hex.EncodeToString(s.hash[:])
}
