package inspect

import (
	"encoding/binary"
	"testing"
)

func TestQuoteOrBackslash8(t *testing.T) {
	t.Parallel()
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			buf := [8]byte{'a', 0xff, 0x80, 0, '!', '#', 0x7f, 'z'}
			buf[pos] = byte(c)
			want := false
			for _, x := range buf {
				if x == '"' || x == '\\' {
					want = true
				}
			}
			if got := quoteOrBackslash8(binary.LittleEndian.Uint64(buf[:])); got != want {
				t.Fatalf("quoteOrBackslash8(%q) = %v", buf, got)
			}
		}
	}
}

func TestSkipString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in  string
		end int
		esc bool
	}{
		{`""`, 2, false},
		{`"abc"x`, 5, false},
		{`"a very long string without escapes at all"`, -1, false},
		{`"0123456789abcdef\"x"`, 21, true},
		{`"0123456\\"`, 11, true},
		{`"01234567\\\"89"`, 16, true},
		{`"é日本語😀 long enough to take the wide path"`, -1, false},
	}
	for _, tt := range tests {
		if tt.end < 0 {
			tt.end = len(tt.in)
		}
		end, esc := skipString([]byte(tt.in), 0)
		if end != tt.end || esc != tt.esc {
			t.Errorf("skipString(%q) = %d, %v; want %d, %v", tt.in, end, esc, tt.end, tt.esc)
		}
	}
}
