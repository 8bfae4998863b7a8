package verifier

import (
	"errors"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// joseToCore maps an error from internal/jose to the core sentinel the
// Guard understands, keeping the original in the chain.
func joseToCore(err error) error {
	var s error
	switch {
	case errors.Is(err, jose.ErrUnavailable):
		s = core.ErrUnavailable
	case errors.Is(err, jose.ErrAlgorithm):
		s = core.ErrUnsupportedAlgorithm
	case errors.Is(err, jose.ErrUnknownKey), errors.Is(err, jose.ErrKeyMismatch):
		s = core.ErrUnknownKey
	case errors.Is(err, jose.ErrSignature):
		s = core.ErrSignature
	case errors.Is(err, jose.ErrMalformed), errors.Is(err, jose.ErrTooLarge), errors.Is(err, jose.ErrForbiddenHeader):
		s = core.ErrMalformedToken
	default:
		// Anything unexpected from the key layer is treated as unavailable
		// only when it says so; otherwise the token is refused.
		s = core.ErrMalformedToken
	}
	if errors.Is(err, s) {
		return err
	}
	return fmt.Errorf("%w: %w", s, err)
}

func claimErr(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
