package authserver

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// maxFormParams caps the number of parameters in a token request.
const maxFormParams = 32

var (
	errFormSyntax    = errors.New("malformed form body")
	errFormDuplicate = errors.New("duplicated parameter")
	errFormTooMany   = errors.New("too many parameters")
)

// parseForm decodes an application/x-www-form-urlencoded body strictly:
// every "&"-separated piece must be name=value with valid percent-encoding
// ("+" is a space) and valid UTF-8 after decoding; empty pieces, empty
// names, ";" separators and control characters are refused; a name that
// appears twice is an error even if both values are empty (RFC 6749 §3.2:
// "Request and response parameters MUST NOT be included more than once").
// A parameter with an empty value is kept as "" so callers can treat it as
// omitted (RFC 6749 §3.2) while duplicates are still detected.
func parseForm(body string) (map[string]string, error) {
	out := make(map[string]string, 8)
	if body == "" {
		return out, nil
	}
	for piece := range strings.SplitSeq(body, "&") {
		if len(out) >= maxFormParams {
			return nil, errFormTooMany
		}
		name, value, ok := strings.Cut(piece, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: parameter without name=value", errFormSyntax)
		}
		if strings.ContainsRune(piece, ';') {
			return nil, fmt.Errorf("%w: ';' is not a separator", errFormSyntax)
		}
		n, err := decodeFormComponent(name)
		if err != nil {
			return nil, err
		}
		v, err := decodeFormComponent(value)
		if err != nil {
			return nil, err
		}
		if _, dup := out[n]; dup {
			return nil, fmt.Errorf("%w: %s", errFormDuplicate, clip.Quote(n, core.MaxLogField))
		}
		out[n] = v
	}
	return out, nil
}

func decodeFormComponent(s string) (string, error) {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return "", fmt.Errorf("%w: bad percent-encoding", errFormSyntax)
	}
	if !utf8.ValidString(d) {
		return "", fmt.Errorf("%w: invalid UTF-8", errFormSyntax)
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: control character", errFormSyntax)
		}
	}
	return d, nil
}

// checkFormContentType accepts application/x-www-form-urlencoded with no
// parameter or with charset=utf-8 (any case).
func checkFormContentType(ct string) error {
	if ct == "" {
		return errors.New("missing Content-Type")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return errors.New("Content-Type must be application/x-www-form-urlencoded")
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return errors.New("unsupported Content-Type parameter")
		}
	}
	return nil
}

// truncateForLog bounds attacker-controlled strings put into logs and
// error texts: core.TruncateField at core.MaxLogField bytes, the bound of
// every Guard log field.
func truncateForLog(s string) string { return core.TruncateField(s, core.MaxLogField) }

// quoteForText quotes an attacker-controlled value put into an error text
// that a client reads (error_description): clip.Quote at core.MaxLogField
// bytes, so control characters arrive escaped and the bound holds after
// escaping.
func quoteForText(s string) string { return clip.Quote(s, core.MaxLogField) }
