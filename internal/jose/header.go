package jose

import (
	"fmt"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// parseHeaderJSON reads the protected header in one strict pass
// (internal/jsonscan): alg, kid and typ must be strings; any forbidden
// member is refused; every other member goes to t.Header.Extra.
func (t *Token) parseHeaderJSON(hdr []byte) (alg, kid string, hasAlg, hasKid bool, err error) {
	m, err := jsonscan.DecodeObject(hdr, jsonscan.Options{})
	if err != nil {
		return "", "", false, false, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	for _, f := range forbiddenHeader {
		if _, ok := m[f]; ok {
			return "", "", false, false, fmt.Errorf("%w: %q", ErrForbiddenHeader, f)
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
		return "", "", false, false, err
	}
	if kid, hasKid, err = str("kid"); err != nil {
		return "", "", false, false, err
	}
	typ, _, err := str("typ")
	if err != nil {
		return "", "", false, false, err
	}
	t.Header.Typ = typ
	if len(m) > 0 {
		t.Header.Extra = m
	}
	return alg, kid, hasAlg, hasKid, nil
}
