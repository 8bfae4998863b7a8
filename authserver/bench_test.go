package authserver

import (
	"encoding/json"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// BenchmarkBaselineSign is the floor: signing one access token's claims with
// the same ES256 key, without any request handling.
func BenchmarkBaselineSign(b *testing.B) {
	e := newEnv(b, nil)
	claims := map[string]any{"iss": testIssuer, "sub": testSecretID, "aud": testMCP, "client_id": testSecretID,
		"iat": 1, "exp": 2, "jti": newTokenID(), "scope": "mcp:tools"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		payload, _ := json.Marshal(claims)
		k := e.s.keys.Load().current
		if _, err := jose.Sign(k.signer, jose.Header{Alg: k.alg, Kid: k.kid, Typ: "at+jwt"}, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientCredentialsBasic(b *testing.B) {
	e := newEnv(b, nil)
	r := req{body: form("grant_type", "client_credentials", "resource", testMCP), basic: [2]string{testSecretID, testSecret}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := e.do(r); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkJWTBearerIDJAG: one ID-JAG grant (ES256 verify + ES256 sign);
// the ID-JAGs are minted before the timer starts.
func BenchmarkJWTBearerIDJAG(b *testing.B) {
	e := newEnv(b, nil)
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = form("grant_type", GrantJWTBearer, "assertion", mint(b, idpKey, TypeIDJAG, e.idjagClaims()))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := e.do(req{body: bodies[i], basic: [2]string{testSecretID, testSecret}}); w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkRejectWrongSecret: the cost of a failed client authentication.
func BenchmarkRejectWrongSecret(b *testing.B) {
	e := newEnv(b, nil)
	r := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, "wrong-secret"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := e.do(r); w.Code != 401 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkRejectMalformedIDJAG: garbage assertions are refused before any
// cryptography.
func BenchmarkRejectMalformedIDJAG(b *testing.B) {
	e := newEnv(b, nil)
	r := req{body: form("grant_type", GrantJWTBearer, "assertion", "eyJhbGciOiJub25lIn0.e30.AA"), basic: [2]string{testSecretID, testSecret}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := e.do(r); w.Code != 400 {
			b.Fatal(w.Code)
		}
	}
}
