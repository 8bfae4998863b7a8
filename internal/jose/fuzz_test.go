package jose

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// stdlibSegments decodes the three segments of a compact JWS with
// encoding/base64's strict unpadded base64url decoder, refusing CR and LF
// (which that decoder skips): the reference for ParseCompact's decoding.
func stdlibSegments(raw string) ([3][]byte, bool) {
	var out [3][]byte
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || strings.ContainsAny(raw, "\r\n") {
		return out, false
	}
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			return out, false
		}
		out[i] = b
	}
	return out, true
}

func FuzzParseCompact(f *testing.F) {
	key := testKey(f, ES256)
	good := mint(f, key, ES256, `{"alg":"ES256","kid":"k"}`, `{"sub":"a","aud":["x"],"n":1.5e3}`)
	for _, s := range []string{
		good, "", ".", "..", "a.b.c", "e30.e30.AA", good + ".x", good[:len(good)-1],
		`{"protected":"e30","payload":"","signature":""}`,
		enc([]byte(`{"alg":"none"}`)) + ".e30.",
		enc([]byte(`{"alg":"ES256","crit":["b64"]}`)) + ".e30.AAAA",
		enc([]byte("{\"alg\":\"ES256\",\"kid\":\"\xff\"}")) + ".e30.AAAA",
		enc([]byte(`{"alg":"ES256","alg":"RS256"}`)) + ".e30.AAAA",
		enc([]byte(`{"alg":"ES256","x":"\u00e9\ud83d\ude00"}`)) + "." + enc([]byte(`{"a":[1,{"b":null}],"c":"\"\\"}`)) + ".AAAA",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	pk := pubKey(f, key, "k", ES256)
	f.Fuzz(func(t *testing.T, raw string, rawPayload bool) {
		tok, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, RawPayload: rawPayload})
		ref, refOK := stdlibSegments(raw)
		if err != nil {
			if tok != nil {
				t.Fatal("token with error")
			}
			return
		}
		// Differential: an accepted token's segments are what
		// encoding/base64's strict decoder makes of them.
		if !refOK {
			t.Fatalf("accepted %q, which encoding/base64 (strict, no CR/LF) refuses", raw)
		}
		if !bytes.Equal(tok.Payload, ref[1]) || !bytes.Equal(tok.sig, ref[2]) ||
			string(tok.SigningInput()) != raw[:strings.LastIndexByte(raw, '.')] || tok.PayloadString() != string(ref[1]) {
			t.Fatalf("%q: decoded segments differ from encoding/base64", raw)
		}
		// A header remembered by a HeaderCache parses exactly the same.
		var c HeaderCache
		c.remember(raw[:strings.IndexByte(raw, '.')], tok)
		if cached, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, RawPayload: rawPayload, Headers: &c}); err != nil {
			t.Fatalf("%q: refused with its header cached: %v", raw, err)
		} else {
			sameParse(t, raw, tok, cached)
		}
		if tok.Header.Alg == "" || !IsSupported(tok.Header.Alg) {
			t.Fatalf("accepted alg %q", tok.Header.Alg)
		}
		for _, name := range forbiddenHeader {
			if _, ok := tok.Header.Extra[name]; ok {
				t.Fatalf("forbidden member %q kept", name)
			}
		}
		if !rawPayload {
			if _, err := tok.Claims(); err != nil {
				t.Fatalf("validated payload does not decode: %v", err)
			}
		}
		_ = tok.Verify(pk) // must not panic
	})
}

func FuzzParseJWKS(f *testing.F) {
	for _, alg := range []string{RS256, ES256, ES512, EdDSA} {
		j, _ := PublicJWK(testKey(f, alg).Public(), "k", alg)
		f.Add(jwksBytes(j))
	}
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","use":"sig"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data, KeySetOptions{})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if err := checkPublicKey(k.Key); err != nil {
				t.Fatalf("unchecked key kept: %v", err)
			}
			if k.Use != "" && k.Use != "sig" {
				t.Fatalf("use %q kept", k.Use)
			}
			if k.KeyID != "" {
				if seen[k.KeyID] {
					t.Fatalf("duplicate kid %q kept", k.KeyID)
				}
				seen[k.KeyID] = true
			}
		}
	})
}
