package jose

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/strictjson"
)

// checkFast asserts the fast path's contract on data: when it accepts, the
// two-pass validator accepts too and decodes to the same value.
func checkFast(t *testing.T, data []byte) bool {
	t.Helper()
	m, ok := decodeStrictObject(data, string(data))
	if !ok {
		if m != nil {
			t.Fatal("map returned with ok == false")
		}
		return false
	}
	if err := strictjson.Validate(data, strictjson.Options{}); err != nil {
		t.Fatalf("fast path accepted what strictjson rejects (%v): %q", err, data)
	}
	if want := decodeValidated(data, 16); !reflect.DeepEqual(any(m), want) {
		t.Fatalf("fast path decoded %#v, want %#v", m, want)
	}
	return true
}

var fastCases = []struct {
	in   string
	fast bool // the single pass handles it (else the fallback decides)
}{
	{`{}`, true},
	{` { "sub" : "alice" , "n" : -0.5e+10, "t":true,"f":false,"z":null } `, true},
	{`{"a":[1,[2,[3,{"b":"c"}]],[]],"d":{"e":{}},"g":"caf\u00e9 ok"}`, false}, // escape
	{"{\"g\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", true},                        // raw UTF-8 value
	{`{"groups":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r"]}`, true},
	{`{"n":12345678901234567890,"x":0,"y":1E3,"w":-0}`, true},
	// Everything below must fall back (valid or not).
	{`[]`, false},
	{`"x"`, false},
	{`{"a":1,"a":2}`, false},
	{`{"sub":1,"SUB":2}`, false},
	{`{"a":"x\/y"}`, false},
	{"{\"\xc3\xa9\":1}", false}, // non-ASCII key
	{"{\"a\":\"\xff\"}", false},
	{"{\"a\":\"\xed\xa0\x80\"}", false}, // UTF-8-encoded surrogate
	{"{\"a\":\"x\ty\"}", false},
	{"{\"a\":\"x\x00\"}", false},
	{`{"a":1}x`, false},
	{`{"a":1} {}`, false},
	{`{"a":01}`, false},
	{`{"a":1.}`, false},
	{`{"a":.5}`, false},
	{`{"a":1e}`, false},
	{`{"a":-}`, false},
	{`{"a":+1}`, false},
	{`{"a":tru}`, false},
	{`{"a":nul}`, false},
	{`{"a":[1,]}`, false},
	{`{"a":1,}`, false},
	{`{"a" 1}`, false},
	{`{"a":1`, false},
	{`{"a":"x`, false},
	{`{a:1}`, false},
	{strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), false}, // deeper than fastMaxDepth
}

func TestFastDecodeSubset(t *testing.T) {
	t.Parallel()
	for _, c := range fastCases {
		if got := checkFast(t, []byte(c.in)); got != c.fast {
			t.Errorf("fast(%q) = %v, want %v", c.in, got, c.fast)
		}
	}
	var many strings.Builder
	many.WriteString("{")
	for i := 0; i <= fastMaxKeys; i++ {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"k` + strings.Repeat("x", i) + `":1`)
	}
	many.WriteString("}")
	if checkFast(t, []byte(many.String())) {
		t.Error("object with more than fastMaxKeys members took the fast path")
	}
}

func TestClaimsHandOff(t *testing.T) {
	t.Parallel()
	k := testKey(t, ES256)
	tok, err := ParseCompact(mint(t, k, ES256, `{"alg":"ES256"}`, `{"sub":"a","aud":["x"]}`), ParseOptions{Algorithms: allAlgs})
	if err != nil {
		t.Fatal(err)
	}
	if tok.claims == nil {
		t.Fatal("ParseCompact did not decode the common case in one pass")
	}
	h := []byte(`{"alg":"ES256","kid":"k","typ":"at+jwt","x5t":"abc"}`)
	if alg, kid, _, _, ok := new(Token).fastHeader(h, string(h)); !ok || alg != ES256 || kid != "k" {
		t.Fatal("a typical header did not take the one-pass path")
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

func FuzzFastDecode(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c.in))
	}
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
	})
}

func FuzzFastHeader(f *testing.F) {
	for _, s := range []string{
		`{"alg":"ES256","kid":"k","typ":"at+jwt"}`, `{"alg":"RS256","x5t":"abc","n":[1,{"a":null}]}`,
		`{"alg":"ES256","crit":["b64"]}`, `{"alg":"ES256","ALG":"RS256"}`, `{"alg":1}`, `{}`, ` {"alg":"EdDSA"} `,
		`{"alg":"ES256","kid":"\u0041"}`, "{\"alg\":\"ES256\",\"kid\":\"\xff\"}", `{"alg":"ES256"}x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hdr []byte) {
		var fast, slow Token
		alg, kid, hasAlg, hasKid, ok := fast.fastHeader(hdr, string(hdr))
		alg2, kid2, hasAlg2, hasKid2, err := slow.slowHeader(hdr)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast header accepted what the strict walk rejects (%v): %q", err, hdr)
		}
		if alg != alg2 || kid != kid2 || hasAlg != hasAlg2 || hasKid != hasKid2 || !reflect.DeepEqual(fast.Header, slow.Header) {
			t.Fatalf("fast %q %q %v %v %#v, slow %q %q %v %v %#v", alg, kid, hasAlg, hasKid, fast.Header, alg2, kid2, hasAlg2, hasKid2, slow.Header)
		}
	})
}
