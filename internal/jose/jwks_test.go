package jose

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func jwkJSON(t *testing.T, alg, kid string, mutate func(m map[string]any)) map[string]any {
	t.Helper()
	j, err := PublicJWK(testKey(t, alg).Public(), kid, alg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(j)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if mutate != nil {
		mutate(m)
	}
	return m
}

func setOf(keys ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func kids(keys []*PublicKey) string {
	var s []string
	for _, k := range keys {
		s = append(s, k.KeyID)
	}
	return strings.Join(s, ",")
}

func TestParseJWKSFilters(t *testing.T) {
	t.Parallel()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallJWK, _ := PublicJWK(&small.PublicKey, "small", "")
	ec := testKey(t, ES256).Public().(*ecdsa.PublicKey)
	offCurve := jwkJSON(t, ES256, "off", func(m map[string]any) {
		y := make([]byte, 32)
		ec.Y.FillBytes(y)
		y[31] ^= 1
		m["y"] = enc(y)
	})
	cases := []struct {
		name string
		key  map[string]any
	}{
		{"use enc", jwkJSON(t, RS256, "x", func(m map[string]any) { m["use"] = "enc" })},
		{"key_ops encrypt", jwkJSON(t, RS256, "x", func(m map[string]any) { delete(m, "use"); m["key_ops"] = []string{"encrypt"} })},
		{"key_ops string", jwkJSON(t, RS256, "x", func(m map[string]any) { m["key_ops"] = "verify" })},
		{"alg HS256 on RSA", jwkJSON(t, RS256, "x", func(m map[string]any) { m["alg"] = "HS256" })},
		{"alg none", jwkJSON(t, RS256, "x", func(m map[string]any) { m["alg"] = "none" })},
		{"alg ES384 on P-256", jwkJSON(t, ES256, "x", func(m map[string]any) { m["alg"] = "ES384" })},
		{"alg ES256 on RSA", jwkJSON(t, RS256, "x", func(m map[string]any) { m["alg"] = "ES256" })},
		{"alg EdDSA on EC", jwkJSON(t, ES256, "x", func(m map[string]any) { m["alg"] = "EdDSA" })},
		{"crv P-384 label on P-256 point", jwkJSON(t, ES256, "x", func(m map[string]any) { delete(m, "alg"); m["crv"] = "P-384" })},
		{"crv secp256k1", jwkJSON(t, ES256, "x", func(m map[string]any) { delete(m, "alg"); m["crv"] = "secp256k1" })},
		{"off-curve point", offCurve},
		{"EC x short", jwkJSON(t, ES256, "x", func(m map[string]any) { m["x"] = m["x"].(string)[1:] })},
		{"OKP X25519", jwkJSON(t, EdDSA, "x", func(m map[string]any) { delete(m, "alg"); m["crv"] = "X25519" })},
		{"1024-bit RSA", map[string]any{"kty": "RSA", "kid": "x", "n": smallJWK.N, "e": smallJWK.E}},
		{"e=1", jwkJSON(t, RS256, "x", func(m map[string]any) { m["e"] = "AQ" })},
		{"e even", jwkJSON(t, RS256, "x", func(m map[string]any) { m["e"] = "AQAA" })},
		{"n padded base64", jwkJSON(t, RS256, "x", func(m map[string]any) { m["n"] = m["n"].(string) + "==" })},
		{"n std base64", jwkJSON(t, RS256, "x", func(m map[string]any) { m["n"] = strings.ReplaceAll(m["n"].(string), "_", "/") + "/" })},
		{"kty oct no k", map[string]any{"kty": "oct", "kid": "x"}},
		{"kty missing", map[string]any{"kid": "x", "n": "AQAB"}},
		{"kty number", jwkJSON(t, RS256, "x", func(m map[string]any) { m["kty"] = 1 })},
	}
	good := jwkJSON(t, ES256, "good", nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys, err := ParseJWKS(setOf(good, tc.key), KeySetOptions{})
			if err != nil {
				t.Fatalf("set refused: %v", err)
			}
			if got := kids(keys); got != "good" {
				t.Fatalf("kept %q, want only good", got)
			}
		})
	}
}

func TestParseJWKSKeeps(t *testing.T) {
	t.Parallel()
	keys, err := ParseJWKS(setOf(
		jwkJSON(t, RS256, "rs", nil),
		jwkJSON(t, PS256, "noalg", func(m map[string]any) { delete(m, "alg"); delete(m, "use") }),
		jwkJSON(t, ES384, "es", func(m map[string]any) { m["key_ops"] = []string{"verify"}; delete(m, "use") }),
		jwkJSON(t, EdDSA, "ed", func(m map[string]any) { m["x5t"] = "ignored" }),
		jwkJSON(t, ES512, "", nil),
	), KeySetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := kids(keys); got != "rs,noalg,es,ed," {
		t.Fatalf("kept %q", got)
	}
	// Algorithms option drops keys labelled with other algorithms.
	keys, err = ParseJWKS(setOf(jwkJSON(t, RS256, "rs", nil), jwkJSON(t, ES384, "es", nil), jwkJSON(t, PS256, "any", func(m map[string]any) { delete(m, "alg") })),
		KeySetOptions{Algorithms: []string{RS256}})
	if err != nil || kids(keys) != "rs,any" {
		t.Fatalf("Algorithms filter: %q %v", kids(keys), err)
	}
}

func TestParseJWKSDuplicateKid(t *testing.T) {
	t.Parallel()
	keys, err := ParseJWKS(setOf(jwkJSON(t, RS256, "dup", nil), jwkJSON(t, ES256, "dup", nil), jwkJSON(t, EdDSA, "ok", nil)), KeySetOptions{})
	if err != nil || kids(keys) != "ok" {
		t.Fatalf("kept %q, %v", kids(keys), err)
	}
	// A dropped key does not count as a duplicate.
	keys, err = ParseJWKS(setOf(jwkJSON(t, RS256, "k", nil), jwkJSON(t, ES256, "k", func(m map[string]any) { m["use"] = "enc" })), KeySetOptions{})
	if err != nil || kids(keys) != "k" {
		t.Fatalf("kept %q, %v", kids(keys), err)
	}
}

func TestParseJWKSRefusesSet(t *testing.T) {
	t.Parallel()
	good := jwkJSON(t, ES256, "good", nil)
	many := make([]map[string]any, 101)
	for i := range many {
		many[i] = jwkJSON(t, ES256, fmt.Sprint(i), nil)
	}
	for name, doc := range map[string][]byte{
		"private d":        setOf(good, jwkJSON(t, ES256, "p", func(m map[string]any) { m["d"] = "AAAA" })),
		"private p":        setOf(good, jwkJSON(t, RS256, "p", func(m map[string]any) { m["p"] = "AAAA" })),
		"oct k":            setOf(good, map[string]any{"kty": "oct", "k": "AAAA", "alg": "HS256"}),
		"101 keys (K09)":   setOf(many...),
		"not JSON":         []byte(`{"keys":[`),
		"no keys":          []byte(`{"key":[]}`),
		"keys not array":   []byte(`{"keys":{}}`),
		"keys dup member":  []byte(`{"keys":[],"keys":[]}`),
		"keys case member": []byte(`{"keys":[],"KEYS":[]}`),
		"entry not object": []byte(`{"keys":[1]}`),
		"array":            []byte(`[]`),
		"trailing":         append(setOf(good), '{', '}'),
		"too big":          append(setOf(good), []byte(strings.Repeat(" ", DefaultMaxKeySetBytes))...),
		"html":             []byte(`<html>503</html>`),
	} {
		if _, err := ParseJWKS(doc, KeySetOptions{}); !errors.Is(err, ErrInvalidKeySet) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	keys, err := ParseJWKS([]byte(`{"keys":[]}`), KeySetOptions{})
	if err != nil || len(keys) != 0 {
		t.Fatalf("empty set: %v %v", keys, err)
	}
	if _, err := ParseJWKS(setOf(many[:10]...), KeySetOptions{MaxKeys: 9}); !errors.Is(err, ErrInvalidKeySet) {
		t.Fatalf("MaxKeys: %v", err)
	}
}

func TestStaticKeySetCandidates(t *testing.T) {
	t.Parallel()
	var keys []*PublicKey
	for i := 0; i < 6; i++ {
		k, _ := GenerateKey(ES256)
		keys = append(keys, pubKey(t, k, fmt.Sprint("k", i), ""))
	}
	keys = append(keys, pubKey(t, testKey(t, EdDSA), "ed", EdDSA))
	ks := NewStaticKeySet(keys...)
	got, err := ks.Keys(t0ctx, "", ES256)
	if err != nil || len(got) != MaxCandidates {
		t.Fatalf("kid-less: %d keys, %v", len(got), err)
	}
	if _, err := ks.Keys(t0ctx, "nope", ES256); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
	if _, err := ks.Keys(t0ctx, "ed", ES256); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("kid with wrong alg: %v", err)
	}
	if got, err := ks.Keys(t0ctx, "ed", EdDSA); err != nil || len(got) != 1 {
		t.Fatalf("ed: %v %v", got, err)
	}
}
