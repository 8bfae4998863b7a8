package jsonscan

import (
	"encoding/binary"
	"testing"
)

func TestPlain8(t *testing.T) {
	t.Parallel()
	plain := func(b byte) bool { return b >= 0x20 && b < 0x80 && b != '"' && b != '\\' }
	// Every byte value in every position, with plain filler.
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			var buf [8]byte
			for i := range buf {
				buf[i] = 'a'
			}
			buf[pos] = byte(c)
			if got := plain8(binary.LittleEndian.Uint64(buf[:])); got != plain(byte(c)) {
				t.Fatalf("plain8 with %#x at %d = %v", c, pos, got)
			}
		}
	}
	// Pairs of special bytes (borrow propagation between lanes).
	for c1 := 0; c1 < 256; c1++ {
		for c2 := 0; c2 < 256; c2 += 3 {
			buf := [8]byte{'x', byte(c1), byte(c2), 'y', 'z', ' ', '~', '!'}
			want := plain(byte(c1)) && plain(byte(c2))
			if got := plain8(binary.LittleEndian.Uint64(buf[:])); got != want {
				t.Fatalf("plain8(%q) = %v", buf, got)
			}
		}
	}
}
