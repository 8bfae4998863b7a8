package jose

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

var allAlgs = []string{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA}

var (
	keyMu    sync.Mutex
	keyCache = map[string]crypto.Signer{}
)

// testKey returns a cached key for alg (RSA generation is slow).
func testKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[alg]; ok {
		return k
	}
	k, err := GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	keyCache[alg] = k
	return k
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// mint signs raw header and payload bytes (which may be hostile) with key.
func mint(t testing.TB, key crypto.Signer, alg, header, payload string) string {
	t.Helper()
	input := enc([]byte(header)) + "." + enc([]byte(payload))
	sig, err := SignInput(key, alg, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc(sig)
}

func pubKey(t testing.TB, s crypto.Signer, kid, alg string) *PublicKey {
	t.Helper()
	k, err := NewPublicKey(s.Public(), kid, alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func parseAll(raw string) (*Token, error) {
	return ParseCompact(raw, ParseOptions{Algorithms: allAlgs})
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	payload := []byte(`{"iss":"https://as.example","sub":"alice"}`)
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			key := testKey(t, alg)
			raw, err := Sign(key, Header{Alg: alg, Kid: "k1", Typ: "at+jwt"}, payload)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ParseCompact(raw, ParseOptions{Algorithms: []string{alg}})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Header.Alg != alg || tok.Header.Kid != "k1" || tok.Header.Typ != "at+jwt" || tok.Header.Extra != nil {
				t.Fatalf("header = %+v", tok.Header)
			}
			if string(tok.Payload) != string(payload) {
				t.Fatalf("payload = %q", tok.Payload)
			}
			// Through a JWKS document, as a resource server sees it.
			j, err := PublicJWK(key.Public(), "k1", alg)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := json.Marshal(JWKS{Keys: []JWK{j}})
			keys, err := ParseJWKS(doc, KeySetOptions{})
			if err != nil || len(keys) != 1 {
				t.Fatalf("ParseJWKS = %v, %v", keys, err)
			}
			if err := tok.Verify(keys[0]); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := VerifyToken(context.Background(), tok, NewStaticKeySet(keys...)); err != nil {
				t.Fatalf("VerifyToken: %v", err)
			}
			// Any bit flip in the signature fails.
			bad := []byte(raw)
			i := strings.LastIndexByte(raw, '.') + 2
			if bad[i] == 'A' {
				bad[i] = 'B'
			} else {
				bad[i] = 'A'
			}
			tok2, err := ParseCompact(string(bad), ParseOptions{Algorithms: []string{alg}})
			if err == nil {
				err = tok2.Verify(keys[0])
			}
			if err == nil {
				t.Fatal("modified signature accepted")
			}
			// Another key of the same type fails.
			other, _ := GenerateKey(alg)
			if err := tok.Verify(pubKey(t, other, "k1", "")); !errors.Is(err, ErrSignature) {
				t.Fatalf("other key: %v", err)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	t.Parallel()
	rsaKey := testKey(t, RS256)
	for _, tc := range []struct {
		key crypto.Signer
		alg string
	}{
		{rsaKey, "none"}, {rsaKey, "HS256"}, {rsaKey, ES256}, {rsaKey, EdDSA},
		{testKey(t, ES256), ES384}, {testKey(t, ES256), RS256}, {testKey(t, EdDSA), ES256}, {nil, RS256},
	} {
		if _, err := Sign(tc.key, Header{Alg: tc.alg}, []byte(`{}`)); err == nil {
			t.Errorf("Sign(%T, %s) succeeded", tc.key, tc.alg)
		}
	}
}

func TestKeyIDRFC8037(t *testing.T) {
	t.Parallel()
	// RFC 8037 Appendix A.3.
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got, want := KeyID(ed25519.PublicKey(x)), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("KeyID = %s, want %s", got, want)
	}
}

func TestKeyIDMatchesCanonicalJSON(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{RS256, ES256, ES384, ES512, EdDSA} {
		key := testKey(t, alg)
		j, err := PublicJWK(key.Public(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json sorts map keys, which is the RFC 7638 order.
		m := map[string]string{"kty": j.Kty}
		switch j.Kty {
		case "RSA":
			m["n"], m["e"] = j.N, j.E
		case "EC":
			m["crv"], m["x"], m["y"] = j.Crv, j.X, j.Y
		case "OKP":
			m["crv"], m["x"] = j.Crv, j.X
		}
		b, _ := json.Marshal(m)
		sum := sha256.Sum256(b)
		if got, want := KeyID(key.Public()), enc(sum[:]); got != want {
			t.Errorf("%s: KeyID = %s, want %s", alg, got, want)
		}
		if KeyID(key) != KeyID(key.Public()) {
			t.Errorf("%s: KeyID of private key differs", alg)
		}
	}
	if KeyID("nope") != "" {
		t.Error("KeyID of unsupported type not empty")
	}
}

func TestPublicJWKNeverPrivate(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{RS256, ES256, EdDSA} {
		key := testKey(t, alg)
		j, err := PublicJWK(key, "kid", alg) // the private key is accepted and reduced
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(j)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if hasPrivate(m) || m["use"] != "sig" || m["kid"] != "kid" || m["alg"] != alg {
			t.Errorf("%s: %s", alg, b)
		}
	}
	if _, err := PublicJWK(testKey(t, ES256).Public(), "", ES384); err == nil {
		t.Error("ES384 label on a P-256 key accepted")
	}
}

func TestValidateAlgorithms(t *testing.T) {
	t.Parallel()
	if err := ValidateAlgorithms(allAlgs); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{nil, {}, {"none"}, {"None"}, {"HS256"}, {RS256, "HS512"}, {"ES256K"}, {"rs256"}, {""}} {
		if err := ValidateAlgorithms(bad); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("ValidateAlgorithms(%q) = %v", bad, err)
		}
	}
}

// hs256 builds an HMAC token, as an attacker would.
func hs256(header, payload string, key []byte) string {
	input := enc([]byte(header)) + "." + enc([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + enc(m.Sum(nil))
}

func TestParseCompactRejects(t *testing.T) {
	t.Parallel()
	key := testKey(t, RS256)
	good := mint(t, key, RS256, `{"alg":"RS256","kid":"k1"}`, `{"sub":"a"}`)
	h, p, s := func() (string, string, string) {
		parts := strings.Split(good, ".")
		return parts[0], parts[1], parts[2]
	}()
	pubDER := key.Public().(*rsa.PublicKey).N.Bytes()
	withHeader := func(hdr string) string { return mint(t, key, RS256, hdr, `{"sub":"a"}`) }
	cases := []struct {
		name string
		raw  string
		want error
	}{
		// T01 alg none
		{"T01 none", enc([]byte(`{"alg":"none"}`)) + "." + p + ".", ErrMalformed},
		{"T01 none sig", enc([]byte(`{"alg":"none"}`)) + "." + p + "." + s, ErrAlgorithm},
		{"T01 None", enc([]byte(`{"alg":"None"}`)) + "." + p + "." + s, ErrAlgorithm},
		{"T01 NONE", enc([]byte(`{"alg":"NONE"}`)) + "." + p + "." + s, ErrAlgorithm},
		{"T01 empty alg", enc([]byte(`{"alg":""}`)) + "." + p + "." + s, ErrAlgorithm},
		{"T01 no alg", enc([]byte(`{"kid":"k"}`)) + "." + p + "." + s, ErrMalformed},
		{"T01 alg number", enc([]byte(`{"alg":256}`)) + "." + p + "." + s, ErrMalformed},
		// T02/T03 HMAC and unknown algs
		{"T02 HS256 with pubkey bytes", hs256(`{"alg":"HS256","kid":"k1"}`, `{"sub":"a"}`, pubDER), ErrAlgorithm},
		{"T03 HS512", hs256(`{"alg":"HS512"}`, `{}`, []byte("k")), ErrAlgorithm},
		{"T03 ES256K", enc([]byte(`{"alg":"ES256K"}`)) + "." + p + "." + s, ErrAlgorithm},
		{"T03 RS1", enc([]byte(`{"alg":"RS1"}`)) + "." + p + "." + s, ErrAlgorithm},
		{"T03 rs256 lower", enc([]byte(`{"alg":"rs256"}`)) + "." + p + "." + s, ErrAlgorithm},
		// T05/T06 key material in the header
		{"T05 jwk", withHeader(`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`), ErrForbiddenHeader},
		{"T06 jku", withHeader(`{"alg":"RS256","jku":"http://127.0.0.1:1/jwks"}`), ErrForbiddenHeader},
		{"T06 x5u", withHeader(`{"alg":"RS256","x5u":"http://127.0.0.1:1/x"}`), ErrForbiddenHeader},
		{"T06 x5c", withHeader(`{"alg":"RS256","x5c":["MIIB"]}`), ErrForbiddenHeader},
		// T07 kid injection
		{"T07 kid NUL", withHeader(`{"alg":"RS256","kid":"a\u0000b"}`), ErrMalformed},
		{"T07 kid unicode", withHeader(`{"alg":"RS256","kid":"ключ"}`), ErrMalformed},
		{"T07 kid newline", withHeader(`{"alg":"RS256","kid":"a\nb"}`), ErrMalformed},
		{"T07 kid 257", withHeader(`{"alg":"RS256","kid":"` + strings.Repeat("a", 257) + `"}`), ErrMalformed},
		{"T07 kid empty", withHeader(`{"alg":"RS256","kid":""}`), ErrMalformed},
		{"T07 kid object", withHeader(`{"alg":"RS256","kid":{"a":1}}`), ErrMalformed},
		// T08 crit, T09 b64
		{"T08 crit exp", withHeader(`{"alg":"RS256","crit":["exp"],"exp":1}`), ErrForbiddenHeader},
		{"T08 crit b64", withHeader(`{"alg":"RS256","crit":["b64"],"b64":false}`), ErrForbiddenHeader},
		{"T08 crit empty", withHeader(`{"alg":"RS256","crit":[]}`), ErrForbiddenHeader},
		{"T09 b64 false", withHeader(`{"alg":"RS256","b64":false}`), ErrForbiddenHeader},
		// T10/T11 JSON serialization
		{"T10 flattened", `{"protected":"` + h + `","payload":"` + p + `","signature":"` + s + `","header":{"kid":"x"}}`, ErrMalformed},
		{"T11 general", `{"payload":"` + p + `","signatures":[{"protected":"` + h + `","signature":"` + s + `"}]}`, ErrMalformed},
		// T12 JWE, zip, cty
		{"T12 JWE 5 segments", h + "." + p + "." + p + "." + p + "." + s, ErrMalformed},
		{"T12 zip", withHeader(`{"alg":"RS256","zip":"DEF"}`), ErrForbiddenHeader},
		{"T12 cty JWT", withHeader(`{"alg":"RS256","cty":"JWT"}`), ErrForbiddenHeader},
		// T13 whitespace and alphabet
		{"T13 space", h + "." + p + " ." + s, ErrMalformed},
		{"T13 newline", h + ".\n" + p + "." + s, ErrMalformed},
		{"T13 CR in sig", h + "." + p + "." + s[:4] + "\r" + s[4:], ErrMalformed},
		{"T13 tab", "\t" + good, ErrMalformed},
		{"T13 padding", h + "=." + p + "." + s, ErrMalformed},
		{"T13 plus", h + "." + p + "." + strings.ReplaceAll(s, "-", "+") + "+", ErrMalformed},
		{"T13 slash", h + "." + p + "." + s + "/", ErrMalformed},
		// T14 non-canonical base64: "e30" = "{}"; "e31" has non-zero trailing bits
		{"T14 trailing bits", enc([]byte(`{"alg":"RS256"}`)) + ".e31." + s, ErrMalformed},
		{"T14 impossible length", h + "." + p + "." + s + "AAA", ErrMalformed},
		// structure
		{"empty", "", ErrMalformed},
		{"two segments", h + "." + p, ErrMalformed},
		{"empty sig", h + "." + p + ".", ErrMalformed},
		{"empty header", "." + p + "." + s, ErrMalformed},
		{"four segments", good + ".x", ErrMalformed},
		// T18 size
		{"T18 1 MiB", strings.Repeat("a", 1<<20), ErrTooLarge},
		{"T18 dots", strings.Repeat(".", 100000), ErrTooLarge},
		{"T18 big header", enc([]byte(`{"alg":"RS256","x":"`+strings.Repeat("a", 100000)+`"}`)) + "." + p + "." + s, ErrTooLarge},
		// T19 invalid UTF-8
		{"T19 header utf8", withHeader("{\"alg\":\"RS256\",\"x\":\"\xff\"}"), ErrMalformed},
		{"T19 payload utf8", mint(t, key, RS256, `{"alg":"RS256"}`, "{\"sub\":\"\xc3\x28\"}"), ErrMalformed},
		{"T19 lone surrogate", mint(t, key, RS256, `{"alg":"RS256"}`, `{"sub":"\ud800"}`), ErrMalformed},
		// T20 duplicate and case-variant members
		{"T20 iss/ISS", mint(t, key, RS256, `{"alg":"RS256"}`, `{"iss":"evil","ISS":"good"}`), ErrMalformed},
		{"T20 dup aud", mint(t, key, RS256, `{"alg":"RS256"}`, `{"aud":"a","aud":"b"}`), ErrMalformed},
		{"T20 dup alg", withHeader(`{"alg":"RS256","alg":"none"}`), ErrMalformed},
		{"T20 ALG", withHeader(`{"alg":"RS256","ALG":"none"}`), ErrMalformed},
		{"header not object", withHeader(`["alg","RS256"]`), ErrMalformed},
		{"header trailing", withHeader(`{"alg":"RS256"}{}`), ErrMalformed},
		{"payload not object", mint(t, key, RS256, `{"alg":"RS256"}`, `["sub"]`), ErrMalformed},
		{"payload text", mint(t, key, RS256, `{"alg":"RS256"}`, `hello`), ErrMalformed},
		{"payload empty", mint(t, key, RS256, `{"alg":"RS256"}`, ``), ErrMalformed},
		{"typ number", withHeader(`{"alg":"RS256","typ":1}`), ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := parseAll(tc.raw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (token %v)", err, tc.want, tok)
			}
		})
	}
}

func TestParseCompactAllowList(t *testing.T) {
	t.Parallel()
	key := testKey(t, RS256)
	raw := mint(t, key, RS256, `{"alg":"RS256"}`, `{}`)
	if _, err := ParseCompact(raw, ParseOptions{}); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("empty allow-list: %v", err)
	}
	if _, err := ParseCompact(raw, ParseOptions{Algorithms: []string{PS256}}); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("alg outside allow-list: %v", err)
	}
	// HS256 in the allow-list still never matches.
	hs := hs256(`{"alg":"HS256"}`, `{}`, []byte("secret"))
	if _, err := ParseCompact(hs, ParseOptions{Algorithms: []string{"HS256", RS256}}); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("HS256 allowed: %v", err)
	}
	if _, err := ParseCompact(raw, ParseOptions{Algorithms: []string{RS256}, MaxLength: len(raw) - 1}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("MaxLength: %v", err)
	}
	tok, err := ParseCompact(mint(t, key, RS256, `{"alg":"RS256","x5t":"abc","kid":"k"}`, `{}`), ParseOptions{Algorithms: []string{RS256}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header.Extra["x5t"] != "abc" || len(tok.Header.Extra) != 1 {
		t.Fatalf("Extra = %v", tok.Header.Extra)
	}
}

func TestVerifyPinsAlgorithm(t *testing.T) {
	t.Parallel()
	rsaKey := testKey(t, RS256)
	ecKey := testKey(t, ES256)
	ec384 := testKey(t, ES384)
	edKey := testKey(t, EdDSA)
	rs := mint(t, rsaKey, RS256, `{"alg":"RS256"}`, `{}`)
	ps := mint(t, rsaKey, PS256, `{"alg":"PS256"}`, `{}`)
	es := mint(t, ecKey, ES256, `{"alg":"ES256"}`, `{}`)
	ed := mint(t, edKey, EdDSA, `{"alg":"EdDSA"}`, `{}`)
	cases := []struct {
		name string
		raw  string
		key  *PublicKey
		want error
	}{
		{"T04 RS256 token, PS512 key", rs, pubKey(t, rsaKey, "", PS512), ErrKeyMismatch},
		{"T04 PS256 token, RS256 key", ps, pubKey(t, rsaKey, "", RS256), ErrKeyMismatch},
		{"ES256 token, RSA key", es, pubKey(t, rsaKey, "", ""), ErrKeyMismatch},
		{"ES256 token, P-384 key", es, pubKey(t, ec384, "", ""), ErrKeyMismatch},
		{"EdDSA token, EC key", ed, pubKey(t, ecKey, "", ""), ErrKeyMismatch},
		{"RS256 token, Ed25519 key", rs, pubKey(t, edKey, "", ""), ErrKeyMismatch},
		{"use enc", rs, &PublicKey{Use: "enc", Key: rsaKey.Public()}, ErrKeyMismatch},
		{"nil key", rs, nil, ErrUnknownKey},
		{"ok RS256 any-alg key", rs, pubKey(t, rsaKey, "", ""), nil},
		{"ok PS256 any-alg key", ps, pubKey(t, rsaKey, "", ""), nil},
	}
	for _, tc := range cases {
		tok, err := parseAll(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Verify(tc.key); !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestECDSASignatureEncoding(t *testing.T) {
	t.Parallel() // T17
	key := testKey(t, ES256).(*ecdsa.PrivateKey)
	input := enc([]byte(`{"alg":"ES256"}`)) + "." + enc([]byte(`{}`))
	d := sha256.Sum256([]byte(input))
	der, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := SignInput(key, ES256, []byte(input))
	n := elliptic.P256().Params().N.Bytes()
	zero := make([]byte, 32)
	one := make([]byte, 32)
	one[31] = 1
	pk := pubKey(t, key, "", "")
	for name, sig := range map[string][]byte{
		"DER":          der,
		"65 bytes":     append(append([]byte{}, raw...), 0),
		"63 bytes":     raw[:63],
		"leading zero": append([]byte{0}, raw...),
		"r=s=0":        append(append([]byte{}, zero...), zero...),
		"r=s=1":        append(append([]byte{}, one...), one...),
		"r=s=n":        append(append([]byte{}, n...), n...),
		"r=0":          append(append([]byte{}, zero...), raw[32:]...),
	} {
		tok, err := parseAll(input + "." + enc(sig))
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Verify(pk); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	tok, _ := parseAll(input + "." + enc(raw))
	if err := tok.Verify(pk); err != nil {
		t.Fatalf("raw r||s rejected: %v", err)
	}
}

func TestNewPublicKeyHygiene(t *testing.T) {
	t.Parallel() // T21
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, pub := range map[string]crypto.PublicKey{
		"1024-bit":    &small.PublicKey,
		"16384-bit":   &rsa.PublicKey{N: new(bigInt).Lsh(bigOne(), 16383), E: 65537},
		"e=1":         &rsa.PublicKey{N: testKey(t, RS256).Public().(*rsa.PublicKey).N, E: 1},
		"e even":      &rsa.PublicKey{N: testKey(t, RS256).Public().(*rsa.PublicKey).N, E: 65536},
		"ed short":    ed25519.PublicKey(make([]byte, 31)),
		"unsupported": "x",
	} {
		if _, err := NewPublicKey(pub, "", ""); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewPublicKey(testKey(t, RS256).Public(), "", "HS256"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("HS256 label accepted: %v", err)
	}
	if _, err := NewPublicKey(testKey(t, ES256).Public(), "", ES512); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("ES512 label on P-256 accepted: %v", err)
	}
	// A freshly generated key does not trip the ROCA check.
	for i := 0; i < 3; i++ {
		if rocaFingerprint(testKey(t, RS256).Public().(*rsa.PublicKey).N) {
			t.Fatal("ROCA false positive")
		}
	}
}

func TestT18BoundedWork(t *testing.T) { // not parallel: AllocsPerRun
	key := testKey(t, ES256)
	p := enc([]byte(`{}`))
	s := strings.Split(mint(t, key, ES256, `{"alg":"ES256"}`, `{}`), ".")[2]
	for name, raw := range map[string]string{
		"1 MiB":         strings.Repeat("A", 1<<20),
		"1e5 dots":      strings.Repeat(".", 100000),
		"100 KB header": enc([]byte(`{"alg":"ES256","x":"`+strings.Repeat("a", 100000)+`"}`)) + "." + p + "." + s,
		"dots at cap":   strings.Repeat("a.", DefaultMaxLength/2),
	} {
		var err error
		allocs := testing.AllocsPerRun(20, func() { _, err = parseAll(raw) })
		if err == nil || allocs > 8 { // error formatting only; nothing proportional to the input
			t.Errorf("%s: err=%v allocs=%v", name, err, allocs)
		}
	}
}

func TestClaimsHandOff(t *testing.T) {
	t.Parallel()
	k := testKey(t, ES256)
	tok, err := ParseCompact(mint(t, k, ES256, `{"alg":"ES256","kid":"k","typ":"at+jwt","x5t":"abc"}`, `{"sub":"a","aud":["x"]}`), ParseOptions{Algorithms: allAlgs})
	if err != nil {
		t.Fatal(err)
	}
	if tok.claims == nil {
		t.Fatal("ParseCompact did not decode the claims in its pass")
	}
	if tok.Header.Kid != "k" || tok.Header.Typ != "at+jwt" || len(tok.Header.Extra) != 1 || tok.Header.Extra["x5t"] != "abc" {
		t.Fatalf("header %#v", tok.Header)
	}
	a, err1 := tok.Claims()
	b, err2 := tok.Claims()
	if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) || a["sub"] != "a" {
		t.Fatalf("claims %v %v / %v %v", a, err1, b, err2)
	}
	a["sub"] = "mallory"
	if b["sub"] != "a" {
		t.Fatal("Claims returned a shared map")
	}
}
