package jose

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// RFC 7520 / RFC 8037 / RFC 7797 examples from ietf-jose/cookbook (Unlicense,
// see testdata/jose-cookbook/SOURCE). Payloads are text, so RawPayload is used.

type cookbook struct {
	Input struct {
		Key json.RawMessage `json:"key"`
		Alg json.RawMessage `json:"alg"`
	} `json:"input"`
	Output struct {
		Compact  string          `json:"compact"`
		JSON     json.RawMessage `json:"json"`
		JSONFlat json.RawMessage `json:"json_flat"`
	} `json:"output"`
}

func loadCookbook(t *testing.T, name string) *cookbook {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jose-cookbook", name))
	if err != nil {
		t.Fatalf("cookbook vectors missing (copy them from /work/shared/testdata/jose-cookbook): %v", err)
	}
	var c cookbook
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// publicSet strips private members from a cookbook private JWK.
func publicSet(t *testing.T, key json.RawMessage) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(key, &m); err != nil {
		t.Fatal(err)
	}
	for _, n := range privateMembers {
		delete(m, n)
	}
	b, _ := json.Marshal(map[string]any{"keys": []any{m}})
	return b
}

func TestCookbookCompactVerifies(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"jws/4_1.rsa_v15_signature.json", "jws/4_2.rsa-pss_signature.json", "jws/4_3.ecdsa_signature.json", "curve25519/jws.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := loadCookbook(t, name)
			// The private JWK as a set is refused whole.
			if _, err := ParseJWKS([]byte(`{"keys":[`+string(c.Input.Key)+`]}`), KeySetOptions{}); !errors.Is(err, ErrInvalidKeySet) {
				t.Fatalf("private set accepted: %v", err)
			}
			keys, err := ParseJWKS(publicSet(t, c.Input.Key), KeySetOptions{})
			if err != nil || len(keys) != 1 {
				t.Fatalf("ParseJWKS: %v %v", keys, err)
			}
			tok, err := ParseCompact(c.Output.Compact, ParseOptions{Algorithms: allAlgs, RawPayload: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify(keys[0]); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// Without RawPayload the text payload is not a claims set.
			if _, err := ParseCompact(c.Output.Compact, ParseOptions{Algorithms: allAlgs}); !errors.Is(err, ErrMalformed) {
				t.Fatalf("text payload accepted as claims: %v", err)
			}
			// T10/T11: JSON serializations of the same signature are refused.
			for _, j := range []json.RawMessage{c.Output.JSON, c.Output.JSONFlat} {
				if _, err := ParseCompact(string(j), ParseOptions{Algorithms: allAlgs, RawPayload: true}); !errors.Is(err, ErrMalformed) {
					t.Fatalf("JSON serialization accepted: %v", err)
				}
			}
		})
	}
}

func TestCookbookRejected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want error
	}{
		{"jws/4_4.hmac-sha2_integrity_protection.json", ErrAlgorithm},    // HS256 compact
		{"jws/4_6.protecting_specific_header_fields.json", ErrMalformed}, // JSON with unprotected header
		{"jws/4_7.protecting_content_only.json", ErrMalformed},           // JSON, unprotected only
		{"jws/4_8.multiple_signatures.json", ErrMalformed},               // general JSON, 3 signatures
		{"rfc7797/hmac-sha2_b64_false.json", nil /* any error */},        // b64:false
	} {
		c := loadCookbook(t, tc.name)
		forms := []string{c.Output.Compact, string(c.Output.JSON), string(c.Output.JSONFlat)}
		for i, raw := range forms {
			if raw == "" || raw == "null" {
				continue
			}
			_, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, RawPayload: true})
			want := tc.want
			if i > 0 {
				want = ErrMalformed // every JSON serialization
			}
			if err == nil || (want != nil && !errors.Is(err, want)) {
				t.Errorf("%s form %d: err = %v, want %v", tc.name, i, err, want)
			}
		}
	}
	// RFC 7797 protected header (from output.json_flat; the file's
	// protected_b64u is itself malformed) over an encoded payload still fails
	// on b64/crit (T09).
	c := loadCookbook(t, "rfc7797/hmac-sha2_b64_false.json")
	var flat struct {
		Protected string `json:"protected"`
	}
	if err := json.Unmarshal(c.Output.JSONFlat, &flat); err != nil || flat.Protected == "" {
		t.Fatalf("no protected header in rfc7797 vector: %v", err)
	}
	raw := flat.Protected + ".e30.AAAA"
	if _, err := ParseCompact(raw, ParseOptions{Algorithms: append([]string{"HS256"}, allAlgs...), RawPayload: true}); !errors.Is(err, ErrForbiddenHeader) {
		t.Errorf("b64:false header: %v", err)
	}
}

func TestCookbookPublicJWKs(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"jwk/3_1.ec_public_key.json", "jwk/3_3.rsa_public_key.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "jose-cookbook", name))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := ParseJWKS([]byte(`{"keys":[`+string(b)+`]}`), KeySetOptions{})
		if err != nil || len(keys) != 1 || keys[0].KeyID != "bilbo.baggins@hobbiton.example" {
			t.Errorf("%s: %v %v", name, keys, err)
		}
	}
}
