package verifier

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

func TestJoseToCore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   error
		want error
	}{
		{fmt.Errorf("%w: x", jose.ErrMalformed), core.ErrMalformedToken},
		{fmt.Errorf("%w: x", jose.ErrTooLarge), core.ErrMalformedToken},
		{fmt.Errorf("%w: x", jose.ErrForbiddenHeader), core.ErrMalformedToken},
		{fmt.Errorf("%w: x", jose.ErrAlgorithm), core.ErrUnsupportedAlgorithm},
		{fmt.Errorf("%w: x", jose.ErrKeyMismatch), core.ErrUnknownKey},
		{fmt.Errorf("%w: x", jose.ErrUnknownKey), core.ErrUnknownKey},
		{jose.ErrSignature, core.ErrSignature},
		{fmt.Errorf("%w: down", jose.ErrUnavailable), core.ErrUnavailable},
		{errors.New("custom key set exploded"), core.ErrUnavailable},
		{fmt.Errorf("wrapped %w", core.ErrSignature), core.ErrSignature},
	} {
		got := joseToCore(tc.in)
		if !errors.Is(got, tc.want) || !errors.Is(got, tc.in) {
			t.Errorf("joseToCore(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
