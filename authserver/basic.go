package authserver

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxBasicHeader caps the Authorization header value we decode.
const maxBasicHeader = 4096

var errBasicMalformed = errors.New("malformed Basic credentials")

// parseBasic decodes an RFC 7617 Basic credential as RFC 6749 §2.3.1 uses
// it: the client id and secret are form-urlencoded, joined with ":" and
// base64-encoded (standard alphabet, padded). The scheme name is matched
// case-insensitively and followed by one or more spaces (1*SP, RFC 7617
// §2 and RFC 9110 §11.4); the credentials must be canonical base64. It reports ok=false when the header
// is not a Basic credential at all (another scheme), and an error when it
// is a malformed Basic credential.
func parseBasic(header string) (id, secret string, ok bool, err error) {
	scheme, rest, found := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	rest = strings.TrimLeft(rest, " ")
	if !found || rest == "" || len(header) > maxBasicHeader {
		return "", "", true, errBasicMalformed
	}
	raw, derr := base64.StdEncoding.Strict().DecodeString(rest)
	if derr != nil || strings.ContainsAny(rest, " \t\r\n") {
		return "", "", true, errBasicMalformed
	}
	encID, encSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", true, errBasicMalformed
	}
	if id, err = url.QueryUnescape(encID); err != nil {
		return "", "", true, errBasicMalformed
	}
	if secret, err = url.QueryUnescape(encSecret); err != nil {
		return "", "", true, errBasicMalformed
	}
	if id == "" || !utf8.ValidString(id) || !utf8.ValidString(secret) || hasControl(id) {
		return "", "", true, errBasicMalformed
	}
	return id, secret, true, nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
