package bad

import (
	"errors"

	in "example.com/bad/internal/inner"
)

// ErrBad is a sentinel error: allowed.
var ErrBad = errors.New("bad")

// Default is an exported mutable var: refused.
var Default = []string{"a"}

var hidden = 1 // unexported: allowed

// Limit is a const: allowed.
const Limit = 3

// Take exposes an internal type as a parameter.
func Take(k in.Key) int { return hidden + len(k) }

// Config exposes an internal type in an exported field.
type Config struct {
	Keys  map[string]*in.Key
	cache in.Key // unexported field: allowed
}

// Source exposes an internal type through a method.
type Source interface {
	Get() (in.Key, error)
}

// Alias exposes an internal type by name.
type Alias = in.Key

// Get exposes an internal type as a result of a method.
func (Config) Get() []in.Key { return nil }

type private struct{}

// Get is on an unexported type: allowed.
func (private) Get() in.Key { return "" }

func local() in.Key { return "" } // unexported: allowed
