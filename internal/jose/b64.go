package jose

import (
	"encoding/base64"
	"errors"
)

var b64 = base64.RawURLEncoding.Strict()

var errBase64 = errors.New("invalid base64url")

// isB64URL reports whether every byte of s is in the base64url alphabet.
// encoding/base64 silently skips '\r' and '\n' even in strict mode, so this
// check must come first.
func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if !b64Char(s[i]) {
			return false
		}
	}
	return true
}

func b64Char(c byte) bool { return b64Alphabet[c] }

// b64Alphabet marks the base64url alphabet.
var b64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

// decodeB64 decodes strict, unpadded base64url text.
func decodeB64(s string) ([]byte, error) {
	if !isB64URL(s) {
		return nil, errBase64
	}
	out := make([]byte, b64.DecodedLen(len(s)))
	n, err := b64.Decode(out, []byte(s))
	if err != nil {
		return nil, errBase64
	}
	return out[:n], nil
}

// decodeSeg decodes strict base64url src into dst, returning the decoded
// bytes. The caller has excluded CR and LF, which the decoder would skip.
func decodeSeg(dst, src []byte) ([]byte, error) {
	n, err := b64.Decode(dst, src)
	if err != nil {
		return nil, errBase64
	}
	return dst[:n], nil
}
