package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// TestSpecial8 checks the SWAR string scan against a byte-at-a-time
// reference: special8 is zero exactly when all eight bytes are plain, its
// lowest flag is the first special byte (also when borrows between lanes
// flag bytes above it), and plainByte agrees with it.
func TestSpecial8(t *testing.T) {
	t.Parallel()
	plain := func(b byte) bool { return b >= 0x20 && b < 0x80 && b != '"' && b != '\\' }
	first := func(buf [8]byte) int {
		for i, c := range buf {
			if !plain(c) {
				return i
			}
		}
		return 8
	}
	check := func(buf [8]byte) {
		t.Helper()
		m := special8(binary.LittleEndian.Uint64(buf[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if want := first(buf); got != want {
			t.Fatalf("special8(%q): first special byte %d, want %d", buf, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		if plainByte[c] != plain(byte(c)) {
			t.Fatalf("plainByte[%#x] = %v", c, plainByte[c])
		}
	}
	// Every byte value in every position, with plain filler.
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			buf := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
			buf[pos] = byte(c)
			check(buf)
		}
	}
	// Pairs of bytes in every two positions (borrow propagation between
	// lanes), with plain filler.
	for p1 := 0; p1 < 8; p1++ {
		for p2 := p1 + 1; p2 < 8; p2++ {
			for c1 := 0; c1 < 256; c1++ {
				for c2 := 0; c2 < 256; c2 += 3 {
					buf := [8]byte{'x', '~', ' ', 'y', 'z', ' ', '~', '!'}
					buf[p1], buf[p2] = byte(c1), byte(c2)
					check(buf)
				}
			}
		}
	}
}
