package httpx

// IsScopeToken reports whether s is an RFC 6749 §3.3 scope-token: one or
// more of %x21 / %x23-5B / %x5D-7E (visible ASCII but '"' and '\'). It is
// the one check of a scope value, in challenges, metadata and token
// requests alike; how a scope string is split is the caller's rule.
func IsScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
