package good

import (
	"errors"

	"example.com/good/internal/inner"
)

// ErrGood is a sentinel error.
var ErrGood = errors.New("good")

// Keys returns a fresh list.
func Keys() []string { return []string{inner.Name()} }

// KeySet is the public one-method interface in front of the internal one.
type KeySet interface {
	Key(id string) ([]byte, error)
}
