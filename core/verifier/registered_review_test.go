package verifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TestRegisteredClaimTypes signs payloads whose registered claims have the
// wrong type, hostile numbers or escaped names: each must be refused (or
// read) exactly as a strict full decode would, never ignored.
func TestRegisteredClaimTypes(t *testing.T) {
	t.Parallel()
	exp, nbf := t0.Add(time.Hour).Unix(), t0.Add(-time.Minute).Unix()
	base := fmt.Sprintf(`"iss":%q,"sub":"alice","aud":%q,"exp":%d`, iss, testAud, exp)
	tests := []struct {
		name    string
		payload string
		err     error    // nil: accepted
		scopes  []string // checked when accepted
		sub     string
	}{
		{"ok", `{` + base + `,"scope":"a b"}`, nil, []string{"a", "b"}, "alice"},
		{"escaped registered names", fmt.Sprintf(`{"\u0069ss":%q,"s\u0075b":"al\u0069ce","aud":%q,"e\u0078p":%d,"sc\u006fpe":"a"}`, iss, testAud, exp), nil, []string{"a"}, "alice"},
		{"slash-escaped iss", fmt.Sprintf(`{"iss":"%s","sub":"alice","aud":"%s","exp":%d}`, strings.ReplaceAll(iss, "/", `\/`), strings.ReplaceAll(testAud, "/", `\/`), exp), nil, nil, "alice"},
		{"spaces around values", fmt.Sprintf("{ \"iss\" : %q ,\n\"sub\" :\t\"alice\" , \"aud\" : [ %q ] , \"exp\" : %d , \"scp\" : [ \"x\" , \"y\" ] }", iss, testAud, exp), nil, []string{"x", "y"}, "alice"},
		{"iss number", fmt.Sprintf(`{"iss":1,"aud":%q,"exp":%d}`, testAud, exp), core.ErrIssuer, nil, ""},
		{"iss null", fmt.Sprintf(`{"iss":null,"aud":%q,"exp":%d}`, testAud, exp), core.ErrIssuer, nil, ""},
		{"Iss case variant", fmt.Sprintf(`{"iss":%q,"Iss":"x","aud":%q,"exp":%d}`, iss, testAud, exp), core.ErrMalformedToken, nil, ""},
		{"duplicate sub", `{` + base + `,"sub":"bob"}`, core.ErrMalformedToken, nil, ""},
		{"escaped duplicate exp", `{` + base + `,"e\u0078p":1}`, core.ErrMalformedToken, nil, ""},
		{"nested duplicate", `{` + base + `,"org":{"a":1,"a":2}}`, core.ErrMalformedToken, nil, ""},
		{"exp string", fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":"%d"}`, iss, testAud, exp), core.ErrInvalidClaims, nil, ""},
		{"exp null", fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":null}`, iss, testAud), core.ErrInvalidClaims, nil, ""},
		{"exp 1e400", fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":1e400}`, iss, testAud), core.ErrInvalidClaims, nil, ""},
		{"exp big int", fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":123456789012345678901234567890}`, iss, testAud), core.ErrInvalidClaims, nil, ""},
		{"exp -0", fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":-0}`, iss, testAud), core.ErrExpired, nil, ""},
		{"exp negative", fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":-1}`, iss, testAud), core.ErrInvalidClaims, nil, ""},
		{"exp fractional", fmt.Sprintf(`{"iss":%q,"sub":"alice","aud":%q,"exp":%d.5}`, iss, testAud, exp), nil, nil, "alice"},
		{"exp exponent", fmt.Sprintf(`{"iss":%q,"sub":"alice","aud":%q,"exp":%de0}`, iss, testAud, exp), nil, nil, "alice"},
		{"nbf string", `{` + base + fmt.Sprintf(`,"nbf":"%d"}`, nbf), core.ErrInvalidClaims, nil, ""},
		{"nbf 1e400", `{` + base + `,"nbf":1e400}`, core.ErrInvalidClaims, nil, ""},
		{"iat object", `{` + base + `,"iat":{}}`, core.ErrInvalidClaims, nil, ""},
		{"iat null", `{` + base + `,"iat":null}`, core.ErrInvalidClaims, nil, ""},
		{"aud null", fmt.Sprintf(`{"iss":%q,"aud":null,"exp":%d}`, iss, exp), core.ErrInvalidClaims, nil, ""},
		{"aud number", fmt.Sprintf(`{"iss":%q,"aud":1,"exp":%d}`, iss, exp), core.ErrInvalidClaims, nil, ""},
		{"aud mixed array", fmt.Sprintf(`{"iss":%q,"aud":[%q,1],"exp":%d}`, iss, testAud, exp), core.ErrInvalidClaims, nil, ""},
		{"aud empty array", fmt.Sprintf(`{"iss":%q,"aud":[],"exp":%d}`, iss, exp), core.ErrAudience, nil, ""},
		{"sub number", fmt.Sprintf(`{"iss":%q,"sub":1,"aud":%q,"exp":%d}`, iss, testAud, exp), core.ErrInvalidClaims, nil, ""},
		{"jti array", `{` + base + `,"jti":["a"]}`, core.ErrInvalidClaims, nil, ""},
		{"client_id bool", `{` + base + `,"client_id":true}`, core.ErrInvalidClaims, nil, ""},
		{"azp number", `{` + base + `,"azp":1}`, core.ErrInvalidClaims, nil, ""},
		{"scope array", `{` + base + `,"scope":["a b","c"]}`, nil, []string{"a", "b", "c"}, "alice"},
		{"scope number", `{` + base + `,"scope":1}`, core.ErrInvalidClaims, nil, ""},
		{"scope null", `{` + base + `,"scope":null}`, core.ErrInvalidClaims, nil, ""},
		{"scope wins over scp", `{` + base + `,"scp":1,"scope":"a"}`, nil, []string{"a"}, "alice"},
		{"scp number", `{` + base + `,"scp":1}`, core.ErrInvalidClaims, nil, ""},
		{"scp mixed list", `{` + base + `,"scp":["a",1]}`, core.ErrInvalidClaims, nil, ""},
		{"scope escaped", `{` + base + `,"scope":"a\u0020b\tc"}`, nil, []string{"a", "b", "c"}, "alice"},
		{"nonce null", `{` + base + `,"nonce":null}`, core.ErrTokenType, nil, ""},
		{"cnf escaped", `{` + base + `,"c\u006ef":{}}`, core.ErrInvalidClaims, nil, ""},
		{"invalid utf8", "{" + base + ",\"x\":\"\xff\"}", core.ErrMalformedToken, nil, ""},
		{"trailing data", `{` + base + `} {}`, core.ErrMalformedToken, nil, ""},
		{"not an object", `[` + base + `]`, core.ErrMalformedToken, nil, ""},
	}
	k := key(t, jose.ES256, "a")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, cache := range []CacheConfig{{MaxEntries: -1}, {}} {
				v, _ := cachedVerifier(t, newClock(), cache)
				tok := mint(t, k, jose.ES256, `{"alg":"ES256","kid":"es","typ":"at+jwt"}`, tc.payload)
				for range 2 { // the second call is a cache hit when caching
					c, err := v.Verify(context.Background(), tok)
					if tc.err != nil {
						if !errors.Is(err, tc.err) {
							t.Fatalf("Verify(%s) err = %v, want %v", tc.payload, err, tc.err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("Verify(%s): %v", tc.payload, err)
					}
					if c.Subject != tc.sub || !slices.Equal(c.Scopes, tc.scopes) || c.Issuer != iss || !slices.Equal(c.Audience, []string{testAud}) {
						t.Fatalf("claims %+v", c)
					}
				}
			}
		})
	}
}
