package jose

import (
	"encoding/base64"
	"errors"

	"github.com/mcpauthz/mcpauthz/internal/b64"
)

// b64url encodes unpadded base64url; decoding goes through internal/b64.
var b64url = base64.RawURLEncoding

var errBase64 = errors.New("invalid base64url")

// decodeB64 decodes strict, unpadded base64url text (internal/b64: the
// canonical encoding only, CR and LF refused).
func decodeB64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}

// decodeSeg decodes strict, unpadded base64url src (internal/b64) into dst,
// which holds b64.DecodedLen(len(src)) bytes, and returns dst.
func decodeSeg(dst []byte, src string) ([]byte, error) {
	n, err := b64.Decode(dst, src)
	if err != nil {
		return nil, errBase64
	}
	return dst[:n], nil
}
