package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// TestSpecial8Pairs: special8's lowest flag is the first special byte for
// every pair of byte values in every pair of lanes (the other lanes
// plain), so a borrow out of a lower special byte can only add flags
// above it, and a special byte above a plain one never hides it.
func TestSpecial8Pairs(t *testing.T) {
	t.Parallel()
	var w [8]byte
	for i := range 8 {
		for j := i + 1; j < 8; j++ {
			for c := range 256 {
				for d := range 256 {
					for k := range w {
						w[k] = 'a'
					}
					w[i], w[j] = byte(c), byte(d)
					want := 8
					for k, x := range w {
						if !plainByte[x] {
							want = k
							break
						}
					}
					m := special8(binary.LittleEndian.Uint64(w[:]))
					if got := bits.TrailingZeros64(m) >> 3; got != want {
						t.Fatalf("special8(% x): lowest flag in lane %d, want %d", w, got, want)
					}
				}
			}
		}
	}
}
