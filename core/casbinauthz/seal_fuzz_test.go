package casbinauthz

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSeal: a sealed policy always verifies; changing any byte before the
// trailer, or the trailer's digest, makes it fail; arbitrary input never
// panics and fails only with ErrSeal.
func FuzzSeal(f *testing.F) {
	f.Add([]byte("p, *, tool:echo, call, allow\n"), 3)
	f.Add([]byte("p, *, tool:echo, call, allow"), 0)
	f.Add([]byte("# sha256:00\n"), 1)
	f.Add([]byte("p, a\r\n# sha256:zz\r\n\r\n"), 5)
	f.Add([]byte(""), 0)
	// A trailer digest longer than 64 hex digits panicked in hex.Decode
	// (found by FuzzLastGoodDecode): FileSource.Load crashed the process.
	f.Add([]byte("p, *, tool:echo, call, allow\n# sha256:"+strings.Repeat("0", 66)+"\n"), 0)
	path := filepath.Join(f.TempDir(), "p.csv") // no sidecar
	f.Fuzz(func(t *testing.T, policy []byte, pos int) {
		if err := CheckSeal(path, policy, false); err != nil && !errors.Is(err, ErrSeal) {
			t.Fatalf("unexpected error %v", err)
		}
		sealed := SealTrailer(policy)
		if err := CheckSeal(path, sealed, true); err != nil {
			t.Fatalf("sealed policy refused: %v\n%q", err, sealed)
		}
		if pos < 0 {
			pos = -pos
		}
		if len(sealed) == 0 {
			return
		}
		i := pos % len(sealed)
		mutated := append([]byte(nil), sealed...)
		mutated[i] ^= 0x01
		body, _, _ := splitTrailer(sealed)
		// Any change to the sealed content (everything before the trailer
		// line) is refused; a change inside the trailer may only keep it
		// valid if the content is unchanged, which it is.
		if i < len(body) && CheckSeal(path, mutated, true) == nil {
			t.Fatalf("flipping byte %d left the seal valid: %q", i, mutated)
		}
	})
}
