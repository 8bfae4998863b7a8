package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"strings"
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

// TestWordScanEveryOffset puts each kind of byte that ends a plain run at
// every offset of the eight-byte words special8 reads (and past the last
// whole word), in a string value and in an object key, and checks the
// word-at-a-time readers against Validate and a byte-at-a-time reference:
// QuickString, the fast skipper's strings (fastString and fastObject's
// inline values), and the keys of fastObject and QuickObject.Key.
func TestWordScanEveryOffset(t *testing.T) {
	t.Parallel()
	stops := []string{`"`, `\n`, `\u00e9`, `\x`, "\x00", "\x1f", "\x7f", "\x80", "\xff", "é", "\xc3", " ", "~"}
	plainRun := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if !plainByte[s[i]] {
				return false
			}
		}
		return true
	}
	for p := 0; p <= 26; p++ {
		for r := 0; r <= 9; r++ {
			for _, c := range stops {
				text := strings.Repeat("a", p) + c + strings.Repeat("b", r)
				str := []byte(`"` + text + `"`)
				ok := Validate(str, Options{}) == nil
				// QuickString: the index after the string exactly when
				// the text before the first '"' is plain.
				want := -1
				if q := strings.IndexByte(text, '"'); q >= 0 && plainRun(text[:q]) {
					want = q + 2
				} else if q < 0 && plainRun(text) {
					want = len(str)
				}
				if got := QuickString(str, 0); got != want {
					t.Fatalf("QuickString(%q) = %d, want %d", str, got, want)
				}
				if c == `"` {
					continue // the value ends inside the text
				}
				if got := fastString(str, 0); (got == len(str)) != ok || got != len(str) && got != -1 {
					t.Fatalf("fastString(%q) = %d, Validate ok %v", str, got, ok)
				}
				// The same text as an inline value and as a key.
				const pad = `,"zzzzzzzzzzzz":3}`
				for _, doc := range []string{`{"k":` + string(str) + pad, `{` + string(str) + `:1` + pad, `{"a":1,` + string(str) + `:2}`} {
					d := []byte(doc)
					vok := Validate(d, Options{}) == nil
					got := skipFast(d, 0, 0, DefaultMaxDepth)
					if got >= 0 && (!vok || got != len(d)) || !vok && got != -1 {
						t.Fatalf("skipFast(%q) = %d, Validate ok %v", d, got, vok)
					}
				}
				// The key reader, with a word to read past the key.
				d := []byte(`{` + string(str) + `:1` + pad)
				var o QuickObject
				key, _, at := o.Key(d, 1)
				if plainRun(text) && (at != len(str)+2 || string(key) != text) || !plainRun(text) && at != -1 {
					t.Fatalf("QuickObject.Key(%q) = %q, %d", d, key, at)
				}
			}
		}
	}
}
