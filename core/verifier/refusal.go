package verifier

import "github.com/mcpauthz/mcpauthz/core"

// refused annotates the refusal of a token whose claims raw were parsed with
// the issuer and audience it named (core.TokenRefusalError, for audit). The
// values are unverified and bounded.
func refused(raw core.RawClaims, err error) error {
	v, _ := raw.Get("iss")
	iss, _ := v.(string)
	var aud []string
	v, _ = raw.Get("aud")
	switch a := v.(type) {
	case string:
		aud = []string{core.TruncateField(a, core.MaxLogField)}
	case []any:
		for _, x := range a {
			if len(aud) == core.MaxLogItems {
				break
			}
			if s, ok := x.(string); ok {
				aud = append(aud, core.TruncateField(s, core.MaxLogField))
			}
		}
	}
	if iss == "" && aud == nil {
		return err
	}
	return &core.TokenRefusalError{Issuer: core.TruncateField(iss, core.MaxLogField), Audience: aud, Err: err}
}
