package authserver

import (
	"testing"
)

// TestForgedIDJAGCannotBlock: an ID-JAG carrying a victim's jti but not
// signed by the IdP never stops the genuine one from being redeemed after
// it, whether it comes from another authenticated client or from the
// victim's own client: its replay key is recorded only once its signature
// verified. The genuine ID-JAG is then redeemed exactly once. Every store
// mode gives the same answers. (A guard for any change that would record
// the key earlier, such as sending the batch before verification.)
func TestForgedIDJAGCannotBlock(t *testing.T) {
	t.Parallel()
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, mode)
		victim := e.idjagClaims()
		genuine := mint(t, idpKey, TypeIDJAG, victim)
		asSecret := func(assertion string) oauthResult {
			return decodeResult(t, e.do(req{body: form("grant_type", GrantJWTBearer, "assertion", assertion), basic: [2]string{testSecretID, testSecret}}))
		}
		asJWTClient := func(assertion string) oauthResult {
			return decodeResult(t, e.do(req{body: form("grant_type", GrantJWTBearer, "assertion", assertion,
				"client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", e.assertionClaims()))}))
		}
		with := func(edit func(map[string]any)) map[string]any {
			c := e.idjagClaims()
			for k, v := range victim {
				c[k] = v
			}
			edit(c)
			return c
		}
		forgeries := []struct {
			name string
			send func() oauthResult
			want string // error description
		}{
			{"other client, its own client_id, bad signature", func() oauthResult {
				return asJWTClient(mint(t, otherIdPKey, TypeIDJAG, with(func(c map[string]any) { c["client_id"] = testJWTID })))
			}, "ID-JAG signature is invalid"},
			{"other client, the victim's client_id, bad signature", func() oauthResult {
				return asJWTClient(mint(t, otherIdPKey, TypeIDJAG, victim))
			}, "ID-JAG signature is invalid"},
			{"other client, the victim's genuine ID-JAG", func() oauthResult {
				return asJWTClient(genuine)
			}, "ID-JAG was issued to another client"},
			{"same client, the victim's claims, bad signature", func() oauthResult {
				return asSecret(mint(t, otherIdPKey, TypeIDJAG, victim))
			}, "ID-JAG signature is invalid"},
			{"same client, other claims, bad signature", func() oauthResult {
				return asSecret(mint(t, otherIdPKey, TypeIDJAG, with(func(c map[string]any) { c["sub"] = "mallory" })))
			}, "ID-JAG signature is invalid"},
		}
		for _, f := range forgeries {
			for round := range 2 { // a second copy gets the same answer: nothing was kept
				if res := f.send(); res.status != 400 || res.err != "invalid_grant" || res.desc != f.want {
					t.Fatalf("%s (copy %d): %d %s", f.name, round+1, res.status, res.body)
				}
			}
		}
		if res := asSecret(genuine); res.status != 200 {
			t.Fatalf("genuine ID-JAG after the forgeries: %d %s", res.status, res.body)
		}
		if res := asSecret(genuine); res.status != 400 || res.desc != "assertion already used" {
			t.Fatalf("genuine ID-JAG again: %d %s", res.status, res.body)
		}
		// a forged copy after the genuine one is refused, and its refusal
		// releases nothing: the genuine one stays used
		if res := asSecret(mint(t, otherIdPKey, TypeIDJAG, victim)); res.status != 400 {
			t.Fatalf("forged copy after: %d %s", res.status, res.body)
		}
		if res := asSecret(genuine); res.status != 400 || res.desc != "assertion already used" {
			t.Fatalf("genuine ID-JAG after a forged copy: %d %s", res.status, res.body)
		}
	})
}
