package jose

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Wycheproof vectors (C2SP/wycheproof, Apache-2.0; see
// testdata/wycheproof/SOURCE). Each JWS vector is checked by loading the
// group's public key through ParseJWKS (as a one-key set), parsing the token
// with every supported algorithm allowed, and verifying with that key.

type wpFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Public  json.RawMessage `json:"public"`
		Private json.RawMessage `json:"private"`
		Tests   []struct {
			TcID    int             `json:"tcId"`
			Comment string          `json:"comment"`
			JWS     json.RawMessage `json:"jws"`
			Result  string          `json:"result"`
			Flags   []string        `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func loadWycheproof(t *testing.T, name string) *wpFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wycheproof", name))
	if err != nil {
		t.Fatalf("Wycheproof vectors missing (copy them from /work/shared/testdata/wycheproof): %v", err)
	}
	var f wpFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// PS256 with a non-standard salt length (tc281-286) needs no exception: this
// package verifies PSS with SaltLength = hash size, and Wycheproof marks those
// vectors invalid (go-jose, which uses auto salt, accepts them).

// jwsExceptions are vectors Wycheproof marks "valid" that this package
// rejects on purpose. Every other vector must be classified as Wycheproof
// says.
var jwsExceptions = map[int]string{
	// HMAC is never accepted on the resource server (RFC 8725 §3.1, T02/T03).
	1: "HS256 (HMAC never allowed)", 348: "HS256 (HMAC never allowed)", 352: "HS256 (HMAC never allowed)",
	357: "HS256 (HMAC never allowed)", 358: "HS256 (HMAC never allowed)", 359: "HS256 (HMAC never allowed)",
	372: "HS256 (HMAC never allowed)", 373: "HS256 (HMAC never allowed)", 376: "HS256 (HMAC never allowed)",
	377: "HS256 (HMAC never allowed)",
	// Vector data quirks: the JWK "alg" label does not match the token alg
	// (PS256 key for a PS384 token; "ES521" is not an algorithm) and we pin
	// the algorithm to the JWK alg (RFC 7517 §4.4, Wycheproof WrongPrimitive).
	346: "JWK alg PS256 on a PS384 token", 347: "JWK alg ES521 (not an algorithm) on an ES512 token",
	350: "JWK alg PS256 on a PS384 token", 351: "JWK alg ES521 (not an algorithm) on an ES512 token",
}

// jwkExceptions are the JWK-file vectors marked "valid" that we reject.
var jwkExceptions = map[int]string{
	2:  "key set of HS256 oct keys (HMAC never allowed; private members refuse the set)",
	13: "HS256 oct key (HMAC never allowed)", 14: "HS384 oct key (HMAC never allowed)", 15: "HS512 oct key (HMAC never allowed)",
}

// wpVerify returns nil when the token verifies with the key set document.
func wpVerify(set []byte, jws json.RawMessage) error {
	var raw string
	if err := json.Unmarshal(jws, &raw); err != nil {
		return errors.New("JSON serialization (not a compact string)")
	}
	keys, err := ParseJWKS(set, KeySetOptions{})
	if err != nil {
		return err
	}
	tok, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, RawPayload: true})
	if err != nil {
		return err
	}
	ks := NewStaticKeySet(keys...)
	_, err = VerifyToken(t0ctx, tok, ks)
	return err
}

func TestWycheproofJWS(t *testing.T) {
	t.Parallel()
	f := loadWycheproof(t, "json_web_signature_test.json")
	seen, accepted, exceptions := 0, 0, 0
	for _, g := range f.TestGroups {
		var set []byte
		if len(g.Public) > 0 && string(g.Public) != "null" {
			set = []byte(`{"keys":[` + string(g.Public) + `]}`)
		} else {
			// HMAC groups carry only the symmetric key: loading it must fail.
			set = []byte(`{"keys":[` + string(g.Private) + `]}`)
			if _, err := ParseJWKS(set, KeySetOptions{}); !errors.Is(err, ErrInvalidKeySet) {
				t.Errorf("group %s: symmetric key set accepted: %v", g.Comment, err)
			}
		}
		for _, tc := range g.Tests {
			seen++
			err := wpVerify(set, tc.JWS)
			want := tc.Result == "valid"
			if reason, ok := jwsExceptions[tc.TcID]; ok {
				exceptions++
				if !want || err == nil {
					t.Errorf("tc%d: listed exception (%s) no longer applies: result=%s err=%v", tc.TcID, reason, tc.Result, err)
				}
				continue
			}
			if want && err != nil {
				t.Errorf("tc%d (%s, %s): valid vector rejected: %v", tc.TcID, g.Comment, tc.Comment, err)
			}
			if !want && err == nil {
				t.Errorf("tc%d (%s, %s %v): invalid vector accepted", tc.TcID, g.Comment, tc.Comment, tc.Flags)
			}
			if err == nil {
				accepted++
			}
		}
	}
	if seen != f.NumberOfTests || seen < 400 {
		t.Fatalf("ran %d vectors, file declares %d", seen, f.NumberOfTests)
	}
	t.Logf("%d vectors: %d accepted, %d listed exceptions", seen, accepted, exceptions)
}

func TestWycheproofJWK(t *testing.T) {
	t.Parallel()
	f := loadWycheproof(t, "json_web_key_test.json")
	seen := 0
	for _, g := range f.TestGroups {
		set := g.Public
		if len(set) == 0 || string(set) == "null" {
			set = g.Private // symmetric sets: must be refused
		}
		for _, tc := range g.Tests {
			seen++
			err := wpVerify(set, tc.JWS)
			want := tc.Result == "valid"
			if reason, ok := jwkExceptions[tc.TcID]; ok {
				if !want || err == nil {
					t.Errorf("tc%d: listed exception (%s) no longer applies", tc.TcID, reason)
				}
				continue
			}
			if want != (err == nil) {
				t.Errorf("tc%d (%s, %s): want %s, err = %v", tc.TcID, g.Comment, tc.Comment, tc.Result, err)
			}
		}
		// The private set (public + private members) is always refused whole.
		if _, err := ParseJWKS(g.Private, KeySetOptions{}); !errors.Is(err, ErrInvalidKeySet) {
			t.Errorf("group %s: private key set accepted: %v", g.Comment, err)
		}
	}
	if seen != f.NumberOfTests {
		t.Fatalf("ran %d vectors, file declares %d", seen, f.NumberOfTests)
	}
}
