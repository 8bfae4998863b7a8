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
	for _, known := range coreSentinels {
		if errors.Is(err, known) {
			return err // an injected KeySet may already speak core
		}
	}
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
		// Token parsing only returns the jose sentinels above, so anything
		// else comes from a key set that failed in an unforeseen way: the
		// keys are unavailable (503), never an allow.
		s = core.ErrUnavailable
	}
	return fmt.Errorf("%w: %w", s, err)
}

var coreSentinels = []error{
	core.ErrMalformedToken, core.ErrUnsupportedAlgorithm, core.ErrUnknownKey, core.ErrSignature,
	core.ErrUnavailable, core.ErrInvalidClaims,
}

func claimErr(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
