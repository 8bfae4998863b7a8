package redisstore

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestFamilyReplyTextBounded: a refresh script reply of an unexpected
// shape went into the error whole (%v), the family JSON it may carry (up
// to 64 KiB) included; the authorization server logs that error.
func TestFamilyReplyTextBounded(t *testing.T) {
	t.Parallel()
	family := `{"subject":"` + strings.Repeat("a", 64<<10) + `"}`
	for _, res := range [][]any{
		{int64(2), "rid", family},
		{int64(7), "rid", family, "2026-01-01T00:00:00Z", "x"},
	} {
		var s RefreshStore
		_, err := s.familyReply("refresh rotate script", res)
		if !errors.Is(err, core.ErrStoreUnavailable) {
			t.Fatalf("err = %.200v, want ErrStoreUnavailable", err)
		}
		if n := len(err.Error()); n > 256 {
			t.Errorf("error text of %d bytes, want at most 256: %.200s", n, err)
		}
	}
}
