package jose

import (
	"errors"
	"testing"
)

func TestVerifyKeysNoKey(t *testing.T) {
	if _, err := VerifyKeys(&Token{}, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("got %v", err)
	}
}
