package verifier

import (
	"context"
	"testing"
)

// TestKeycloakRFC9068Header: a Keycloak client with the attribute
// access.token.header.type.rfc9068 = true (Keycloak 26.2+, "Use at+jwt as
// access token header type") signs its access tokens with typ "at+jwt";
// the payload still says typ "Bearer" and client_id is added.
func TestKeycloakRFC9068Header(t *testing.T) {
	presets := testPresets(t)
	var g goldenToken
	for _, x := range loadGoldenTokens(t) {
		if x.file == "keycloak" {
			g = x
		}
	}
	h, c := cloneMap(g.Header), cloneMap(g.Claims)
	h["typ"] = "at+jwt"
	c["client_id"] = c["azp"]
	v := presetVerifier(t, presets["keycloak"], nil)
	cl, err := v.Verify(context.Background(), signGolden(t, g.idp, h, c))
	if err == nil {
		_, err = v.Mapper().MapClaims(context.Background(), cl)
	}
	if got := errClass(err); got != "ok" {
		t.Fatalf("Keycloak RFC 9068 token refused: %s (%v)", got, err)
	}
}
