package jose

import (
	"strings"
	"testing"
)

// benchPayload is a typical ~600-byte claims set (see
// core/verifier/bench_test.go for the full-token benchmarks).
const benchPayload = `{"iss":"https://as.example","sub":"00u1a2b3c4d5e6f7g8h9-user@example.com","aud":"https://mcp.example.com/mcp",` +
	`"exp":1772370000,"iat":1772366340,"nbf":1772366340,"jti":"4f1c2a8e-6b7d-4c3e-9a1b-2c3d4e5f6a7b","client_id":"client-1",` +
	`"scope":"openid profile email tools:read tools:call resources:read prompts:get offline_access",` +
	`"groups":["engineering","platform-team","sre-oncall","mcp-users","github-admins","security-reviewers","data-readers",` +
	`"release-managers","incident-commanders","all-staff"]}`

// BenchmarkParseCompact measures the pre-parse (no crypto, no claims decode).
func BenchmarkParseCompact(b *testing.B) {
	raw := mint(b, testKey(b, EdDSA), EdDSA, `{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`, benchPayload)
	opts := ParseOptions{Algorithms: DefaultAlgorithms()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCompact(raw, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaims measures the strict claims decode of a parsed token.
func BenchmarkClaims(b *testing.B) {
	raw := mint(b, testKey(b, EdDSA), EdDSA, `{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`, benchPayload)
	tok, err := ParseCompact(raw, ParseOptions{Algorithms: DefaultAlgorithms()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tok.Claims(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCompactMalformed is the cost of refusing a dot bomb at the cap.
func BenchmarkParseCompactMalformed(b *testing.B) {
	raw := strings.Repeat("a.", DefaultMaxLength/2)
	opts := ParseOptions{Algorithms: DefaultAlgorithms()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCompact(raw, opts); err == nil {
			b.Fatal("accepted")
		}
	}
}
