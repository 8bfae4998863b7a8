package jose

import (
	"fmt"

	"github.com/mcpauthz/mcpauthz/internal/strictjson"
)

// fastHeader reads the header in one strict pass (see fastDecoder); ok is
// false when it gives up, for any reason, and slowHeader must decide.
// text must equal string(hdr).
func (t *Token) fastHeader(hdr []byte, text string) (alg, kid string, hasAlg, hasKid, ok bool) {
	if len(text) != len(hdr) {
		return "", "", false, false, false
	}
	d := fastDecoder{data: hdr, s: text}
	d.ws()
	if d.peek() != '{' {
		return "", "", false, false, false
	}
	d.pos++
	d.ws()
	if d.peek() == '}' {
		d.pos++
	} else {
		var kbuf [8]string
		keys := kbuf[:0]
		for {
			d.ws()
			if d.peek() != '"' {
				return "", "", false, false, false
			}
			name, ascii, ok := d.str()
			if !ok || !ascii || len(keys) == fastMaxKeys {
				return "", "", false, false, false
			}
			for _, prev := range keys {
				if len(prev) == len(name) && equalFoldASCII(prev, name) {
					return "", "", false, false, false
				}
			}
			keys = append(keys, name)
			d.ws()
			if d.peek() != ':' {
				return "", "", false, false, false
			}
			d.pos++
			d.ws()
			switch name {
			case "alg", "kid", "typ":
				if d.peek() != '"' {
					return "", "", false, false, false
				}
				v, _, ok := d.str()
				if !ok {
					return "", "", false, false, false
				}
				switch name {
				case "alg":
					alg, hasAlg = v, true
				case "kid":
					kid, hasKid = v, true
				default:
					t.Header.Typ = v
				}
			default:
				for _, f := range forbiddenHeader {
					if name == f {
						return "", "", false, false, false
					}
				}
				v, ok := d.value(1)
				if !ok {
					return "", "", false, false, false
				}
				if t.Header.Extra == nil {
					t.Header.Extra = make(map[string]any, 4)
				}
				t.Header.Extra[name] = v
			}
			d.ws()
			if d.peek() == '}' {
				d.pos++
				break
			}
			if d.peek() != ',' {
				return "", "", false, false, false
			}
			d.pos++
		}
	}
	d.ws()
	if d.pos != len(d.data) {
		return "", "", false, false, false
	}
	return alg, kid, hasAlg, hasKid, true
}

// slowHeader validates the header with strictjson and then reads it.
func (t *Token) slowHeader(hdr []byte) (alg, kid string, hasAlg, hasKid bool, err error) {
	if err := strictjson.Validate(hdr, strictjson.Options{}); err != nil {
		return "", "", false, false, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	// Walk the validated members directly: alg, kid and typ are read as
	// strings without building a map; anything else goes to Extra.
	d := decoder{data: hdr, s: string(hdr), topHint: 4}
	d.ws()
	if d.peek() != '{' {
		return "", "", false, false, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	d.pos++
	d.ws()
	for d.peek() == '"' {
		name := d.str()
		d.ws()
		d.pos++ // ':'
		d.ws()
		switch name {
		case "alg", "kid", "typ":
			if d.peek() != '"' {
				return "", "", false, false, fmt.Errorf("%w: %s is not a string", ErrMalformed, name)
			}
			v := d.str()
			switch name {
			case "alg":
				alg, hasAlg = v, true
			case "kid":
				kid, hasKid = v, true
			default:
				t.Header.Typ = v
			}
		default:
			for _, f := range forbiddenHeader {
				if name == f {
					return "", "", false, false, fmt.Errorf("%w: %q", ErrForbiddenHeader, name)
				}
			}
			if t.Header.Extra == nil {
				t.Header.Extra = make(map[string]any, 4)
			}
			t.Header.Extra[name] = d.value()
		}
		d.ws()
		if d.peek() != ',' {
			break
		}
		d.pos++
		d.ws()
	}
	return alg, kid, hasAlg, hasKid, nil
}
