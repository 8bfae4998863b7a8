package jsonscan

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// foldKeyRunes is foldKey without its ASCII shortcut: the smallest rune of
// each rune's simple-folding orbit.
func foldKeyRunes(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b = utf8.AppendRune(b, m)
	}
	return string(b)
}

func equalFoldASCIIBytewise(a, b []byte) bool {
	for i := range a {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// TestFoldWordwise: the word-wise equalFoldASCII and foldKey's ASCII
// shortcut agree with the byte- and rune-wise definitions: every pair of
// bytes at every offset of keys up to 40 bytes, and random keys mixing
// ASCII, bytes of 0x80 and more, and the Kelvin and long-s signs.
func TestFoldWordwise(t *testing.T) {
	for x := 0; x < 256; x++ {
		for y := 0; y < 256; y++ {
			for _, n := range []int{1, 7, 8, 9, 16, 23} {
				for pos := 0; pos < n; pos += 3 {
					a, b := []byte(strings.Repeat("q", n)), []byte(strings.Repeat("Q", n))
					a[pos], b[pos] = byte(x), byte(y)
					if got, want := equalFoldASCII(a, b), equalFoldASCIIBytewise(a, b); got != want {
						t.Fatalf("equalFoldASCII(%q, %q) = %v, want %v", a, b, got, want)
					}
				}
			}
		}
	}
	for c := 0; c < utf8.RuneSelf; c++ {
		s := string(rune(c)) + "aZ"
		if got, want := foldKey(s), foldKeyRunes(s); got != want {
			t.Fatalf("foldKey(%q) = %q, want %q", s, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "A", "k", "K", "s", "S", "z", "Z", "@", "[", "`", "{", "0", "\u212a", "\u017f", "é", "É", "\xff", "\x80"}
	for range 20000 {
		var sa, sb strings.Builder
		n := rng.IntN(40)
		for range n {
			i := rng.IntN(len(alphabet))
			sa.WriteString(alphabet[i])
			if rng.IntN(4) == 0 {
				i = rng.IntN(len(alphabet))
			}
			sb.WriteString(alphabet[i])
		}
		a, b := sa.String(), sb.String()
		if got, want := foldKey(a), foldKeyRunes(a); got != want {
			t.Fatalf("foldKey(%q) = %q, want %q", a, got, want)
		}
		if len(a) == len(b) {
			if got, want := equalFoldASCII([]byte(a), []byte(b)), equalFoldASCIIBytewise([]byte(a), []byte(b)); got != want {
				t.Fatalf("equalFoldASCII(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}
