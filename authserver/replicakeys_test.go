package authserver

import (
	"context"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// Replicas configured with the same keys verify each other's tokens, and the
// three-step rotation (publish, switch, retire) keeps every token verifiable
// by every replica's JWK Set at every step.
func TestReplicasShareAndRotateKeys(t *testing.T) {
	t.Parallel()
	k1, err := jose.GenerateKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := jose.GenerateKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	key1, key2 := SigningKey{Signer: k1, KeyID: "k1"}, SigningKey{Signer: k2, KeyID: "k2"}
	var replicas []*env
	for range 3 {
		replicas = append(replicas, newEnv(t, func(c *Config) { c.SigningKeys = []SigningKey{key1} }))
	}
	good := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}
	// check issues one token per replica and verifies each with every
	// replica's published JWK Set; it returns the kids that signed.
	check := func(step string) map[string]bool {
		t.Helper()
		kids := map[string]bool{}
		for i, issuer := range replicas {
			res := decodeResult(t, issuer.do(good))
			if res.tok == nil {
				t.Fatalf("%s: replica %d: %d %s", step, i, res.status, res.body)
			}
			tok, err := jose.ParseCompact(res.tok.AccessToken, jose.ParseOptions{Algorithms: []string{jose.ES256}})
			if err != nil {
				t.Fatal(err)
			}
			kids[tok.Header.Kid] = true
			for j, verifier := range replicas {
				w := verifier.doWith(req{method: "GET", target: "/jwks.json"}, nil)
				keys, err := jose.ParseJWKS(w.Body.Bytes(), jose.KeySetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jose.VerifyToken(context.Background(), tok, jose.NewStaticKeySet(keys...)); err != nil {
					t.Errorf("%s: token of replica %d (kid %s) does not verify with replica %d's JWKS: %v", step, i, tok.Header.Kid, j, err)
				}
			}
		}
		return kids
	}
	setAll := func(keys ...SigningKey) {
		for _, r := range replicas {
			if err := r.s.SetSigningKeys(keys); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name string
		keys []SigningKey
		kid  string
	}{
		{"shared key", nil, "k1"},
		{"1 publish k2", []SigningKey{key1, key2}, "k1"},
		{"2 sign with k2", []SigningKey{key2, key1}, "k2"},
		{"3 retire k1", []SigningKey{key2}, "k2"},
	}
	for _, st := range steps {
		if st.keys != nil {
			setAll(st.keys...)
		}
		if kids := check(st.name); len(kids) != 1 || !kids[st.kid] {
			t.Fatalf("%s: signed with %v, want %s", st.name, kids, st.kid)
		}
	}
	if err := replicas[0].s.SetSigningKeys(nil); err == nil {
		t.Fatal("empty key set accepted")
	}
	if err := replicas[0].s.SetSigningKeys([]SigningKey{key2, key2}); err == nil {
		t.Fatal("duplicate kid accepted")
	}
}
