package verifier

import "github.com/mcpauthz/mcpauthz/core"

// refused annotates the refusal of a token whose claims m were decoded with
// the issuer and audience it named (core.TokenRefusalError, for audit). The
// values are unverified and bounded.
func refused(m map[string]any, err error) error {
	iss, _ := m["iss"].(string)
	var aud []string
	switch a := m["aud"].(type) {
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
