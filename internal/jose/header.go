package jose

import (
	"fmt"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// parseHeaderJSON reads the protected header: one strict validation pass
// (internal/jsonscan), then a walk over its top-level members that decodes
// only alg, kid and typ (which must be strings); any forbidden member is
// refused; every other member goes to t.Header.Extra (decoded only when
// there is one). Well-known alg and typ values are not copied.
func (t *Token) parseHeaderJSON(hdr []byte) (alg, kid string, hasAlg, hasKid bool, err error) {
	if err := jsonscan.Validate(hdr, jsonscan.Options{}); err != nil {
		return "", "", false, false, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	start := jsonscan.SkipWS(hdr, 0)
	if hdr[start] != '{' {
		err := &jsonscan.Error{Offset: start, Kind: jsonscan.ErrSyntax, Detail: "not a JSON object"}
		return "", "", false, false, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var (
		algAt, kidAt, typAt = -1, -1, -1
		forbidden           uint16 // bit i: forbiddenHeader[i] is present
		extra               bool
	)
	for it := jsonscan.Members(hdr, start); it.Next(); it.Skip() {
		switch key := it.Key(nil); string(key) { // allocates only for an escaped key
		case "alg":
			algAt = it.Value()
		case "kid":
			kidAt = it.Value()
		case "typ":
			typAt = it.Value()
		default:
			extra = true
			for i, f := range forbiddenHeader {
				if string(key) == f {
					forbidden |= 1 << i
				}
			}
		}
	}
	for i, f := range forbiddenHeader {
		if forbidden&(1<<i) != 0 {
			return "", "", false, false, fmt.Errorf("%w: %q", ErrForbiddenHeader, f)
		}
	}
	if alg, hasAlg, err = headerString(hdr, algAt, "alg"); err != nil {
		return "", "", false, false, err
	}
	if kid, hasKid, err = headerString(hdr, kidAt, "kid"); err != nil {
		return "", "", false, false, err
	}
	typ, _, err := headerString(hdr, typAt, "typ")
	if err != nil {
		return "", "", false, false, err
	}
	t.Header.Typ = typ
	if extra {
		m, err := jsonscan.DecodeObject(hdr, jsonscan.Options{})
		if err != nil {
			return "", "", false, false, fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
		delete(m, "alg")
		delete(m, "kid")
		delete(m, "typ")
		t.Header.Extra = m
	}
	return alg, kid, hasAlg, hasKid, nil
}

// wellKnown are header values used without a copy.
var wellKnown = [...]string{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA,
	"JWT", "at+jwt", "application/at+jwt", "at+JWT"}

// headerString decodes the string member value at hdr[at] (at < 0: absent).
func headerString(hdr []byte, at int, name string) (string, bool, error) {
	if at < 0 {
		return "", false, nil
	}
	if hdr[at] != '"' {
		return "", false, fmt.Errorf("%w: %s is not a string", ErrMalformed, name)
	}
	b, _ := jsonscan.AppendString(nil, hdr, at)
	for _, w := range wellKnown {
		if string(b) == w {
			return w, true, nil
		}
	}
	return string(b), true, nil
}
