package jose

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// refParseHeader is the header parser as it was (a full strict decode into
// a map): the oracle for the walking parser.
func refParseHeader(hdr []byte) (h ParsedHeader, alg, kid string, hasAlg, hasKid bool, err error) {
	m, err := jsonscan.DecodeObject(hdr, jsonscan.Options{})
	if err != nil {
		return h, "", "", false, false, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	for _, f := range forbiddenHeader {
		if _, ok := m[f]; ok {
			return h, "", "", false, false, fmt.Errorf("%w: %q", ErrForbiddenHeader, f)
		}
	}
	str := func(name string) (string, bool, error) {
		v, ok := m[name]
		if !ok {
			return "", false, nil
		}
		delete(m, name)
		s, isStr := v.(string)
		if !isStr {
			return "", false, fmt.Errorf("%w: %s is not a string", ErrMalformed, name)
		}
		return s, true, nil
	}
	if alg, hasAlg, err = str("alg"); err != nil {
		return h, "", "", false, false, err
	}
	if kid, hasKid, err = str("kid"); err != nil {
		return h, "", "", false, false, err
	}
	typ, _, err := str("typ")
	if err != nil {
		return h, "", "", false, false, err
	}
	h.Typ = typ
	if len(m) > 0 {
		h.Extra = m
	}
	return h, alg, kid, hasAlg, hasKid, nil
}

func checkHeader(t *testing.T, hdr []byte) {
	var tok Token
	alg, kid, hasAlg, hasKid, err := tok.parseHeaderJSON(hdr)
	want, walg, wkid, whasAlg, whasKid, werr := refParseHeader(hdr)
	if fmt.Sprint(err) != fmt.Sprint(werr) {
		t.Fatalf("header %q: err %v, want %v", hdr, err, werr)
	}
	if err != nil {
		return
	}
	if alg != walg || kid != wkid || hasAlg != whasAlg || hasKid != whasKid || !reflect.DeepEqual(tok.Header, want) {
		t.Fatalf("header %q: %q %q %v %v %+v, want %q %q %v %v %+v", hdr, alg, kid, hasAlg, hasKid, tok.Header, walg, wkid, whasAlg, whasKid, want)
	}
}

var headerSeeds = []string{
	`{"alg":"ES256","kid":"k","typ":"at+jwt"}`, `{"alg":"EdDSA"}`, `{}`, `[]`, `"x"`, `{"alg":1}`, `{"kid":null}`, `{"typ":{}}`,
	`{"alg":"ES256","x5t":"abc","crit":["b64"],"jku":"u"}`, `{"zip":"DEF","alg":3}`, `{"a\u006cg":"RS256","k\u0069d":"\u00e9"}`,
	`{"alg":"RS256","alg":"RS256"}`, `{"ALG":"x","alg":"y"}`, `{"alg":"ES256"} `, `{"alg":"ES256"}x`, `{"typ":"JWT","alg":"none"}`,
	`{"cty":"JWT","x":[1,{"y":null}]}`, "{\"kid\":\"\xff\"}", ``,
}

func TestHeaderDifferential(t *testing.T) {
	t.Parallel()
	for _, s := range headerSeeds {
		checkHeader(t, []byte(s))
	}
}

func FuzzHeaderDifferential(f *testing.F) {
	for _, s := range headerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hdr []byte) { checkHeader(t, hdr) })
}
