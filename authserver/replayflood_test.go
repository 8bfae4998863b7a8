package authserver

import (
	"testing"
)

// With the default in-memory replay store, one client flooding valid
// private_key_jwt assertions fills only its own share: its grants turn to
// 503 (fail closed), while another client's assertions and an IdP's
// ID-JAGs keep getting tokens.
func TestReplayFloodFromOneClientLeavesOthers(t *testing.T) {
	t.Parallel()
	const store = 40 // a share is store/4
	e := newEnv(t, func(c *Config) {
		c.ReplayCacheMaxEntries = store
		c.Clients[2].JWKS, c.Clients[2].SecretHash = jwksOf(t, clientKey), ""
	})
	assertion := func(id string) oauthResult {
		t.Helper()
		c := e.assertionClaims()
		c["iss"], c["sub"] = id, id
		body := form("grant_type", GrantClientCredentials, "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", c))
		return decodeResult(t, e.do(req{body: body}))
	}
	idjag := func() oauthResult {
		t.Helper()
		body := form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, e.idjagClaims()))
		return decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}}))
	}
	var ok, full int
	for range 2 * store {
		switch res := assertion(testJWTID); {
		case res.status == 200:
			ok++
		case res.status == 503 && res.err == "temporarily_unavailable":
			full++
		default:
			t.Fatalf("flood: %d %s", res.status, res.body)
		}
	}
	if ok != store/4 || full != 2*store-store/4 {
		t.Fatalf("flooding client: %d tokens, %d refused 503; want %d and %d", ok, full, store/4, 2*store-store/4)
	}
	for i := range store / 4 {
		if res := assertion(testCCOnlyID); res.status != 200 {
			t.Fatalf("other client, grant %d during the flood: %d %s", i, res.status, res.body)
		}
		if res := idjag(); res.status != 200 {
			t.Fatalf("ID-JAG %d during the flood: %d %s", i, res.status, res.body)
		}
	}
}
