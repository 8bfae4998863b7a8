package httpx

import (
	"errors"
	"fmt"
	"io"
	"mime"
)

// ErrTooLarge is the error of ReadBounded for input over its limit.
var ErrTooLarge = errors.New("too large")

// ReadBounded reads r to its end, but never more than limit+1 bytes: input
// longer than limit bytes is an error wrapping [ErrTooLarge] that names the
// limit. It is the one bounded read of response bodies, request bodies and
// files.
func ReadBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// IsJSON reports whether a Content-Type value names application/json
// (parameters such as charset are allowed; case does not matter).
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
