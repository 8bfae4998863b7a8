package clip

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "tools/call", 256, "tools/call"},
		{"exact", strings.Repeat("a", 64), 64, strings.Repeat("a", 64)},
		{"long", strings.Repeat("a", 100), 64, strings.Repeat("a", 23) + Marker + "77 bytes]"},
		{"rune boundary", strings.Repeat("é", 40), 64, strings.Repeat("é", 11) + Marker + "58 bytes]"},
		{"no room", strings.Repeat("a", 100), 8, Marker + "100 bytes]"},
		{"negative", "abc", -1, Marker + "3 bytes]"},
		{"invalid UTF-8 kept", strings.Repeat("\xff", 100), 64, strings.Repeat("\xff", 23) + Marker + "77 bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := String(tt.in, tt.max)
			if got != tt.want {
				t.Fatalf("String(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if tt.max >= markerRoom && len(got) > tt.max {
				t.Fatalf("len %d > max %d", len(got), tt.max)
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abc", 2, "ab"},
		{"abc", 0, ""},
		{"abc", -3, ""},
		{"aé", 2, "a"}, // é is 2 bytes: never half of it
		{"é", 1, ""},
		{"a€b", 3, "a"},
		{"a€b", 4, "a€"},
	}
	for _, tt := range tests {
		if got := Prefix(tt.in, tt.n); got != tt.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("tools/call", 64)
	f.Add(strings.Repeat("€", 50), 70)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<20 {
			return
		}
		got := String(s, max)
		if len(s) <= max {
			if got != s {
				t.Fatalf("short string changed: %q", got)
			}
			return
		}
		if max >= markerRoom && len(got) > max {
			t.Fatalf("len %d > max %d", len(got), max)
		}
		keep, _, ok := strings.Cut(got, Marker)
		if !ok || !strings.HasPrefix(s, keep) {
			t.Fatalf("%q is not a marked prefix of %q", got, s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(keep) {
			t.Fatalf("cut inside a rune: %q", keep)
		}
	})
}

// TestQuote: the quoted text itself is bounded. Quoting a value clipped to
// max bytes is not: a control character or an invalid byte is one byte
// and four once escaped, so %q of String(iss, 256) with iss "\x01"×2048
// was 911 bytes.
func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "https://as.example.com", 256, `"https://as.example.com"`},
		{"exact", "abc", 5, `"abc"`},
		{"escapes fit", "a\tb", 6, `"a\tb"`},
		{"escapes do not fit", strings.Repeat("\x01", 40), 64, `"\x01\x01\x01\x01\x01"` + Marker + "35 bytes]"},
		{"control chars", strings.Repeat("\u0001", 2048), 256, `"` + strings.Repeat(`\x01`, 53) + `"` + Marker + "1995 bytes]"},
		{"invalid UTF-8", strings.Repeat("\xff", 100), 64, `"` + strings.Repeat(`\xff`, 5) + `"` + Marker + "95 bytes]"},
		{"C1 control (2 bytes, 6 escaped)", strings.Repeat("\u0085", 50), 64, `"` + strings.Repeat(`\u0085`, 3) + `"` + Marker + "94 bytes]"},
		{"4-byte runes", strings.Repeat("😀", 30), 64, `"` + strings.Repeat("😀", 5) + `"` + Marker + "100 bytes]"},
		{"quote and backslash", strings.Repeat(`"\`, 30), 64, `"` + strings.Repeat(`\"\\`, 5) + `"` + Marker + "50 bytes]"},
		{"no room", strings.Repeat("a", 100), 8, `""` + Marker + "100 bytes]"},
		{"negative", "abc", -1, `""` + Marker + "3 bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Quote(tt.in, tt.max)
			if got != tt.want {
				t.Fatalf("Quote(%q, %d) = %s, want %s", tt.in, tt.max, got, tt.want)
			}
			if tt.max >= markerRoom+2 && len(got) > tt.max {
				t.Fatalf("len %d > max %d", len(got), tt.max)
			}
		})
	}
}

func FuzzQuote(f *testing.F) {
	f.Add("https://as.example.com", 256)
	f.Add(strings.Repeat("\x01", 2048), 256)
	f.Add(strings.Repeat("\xff€\u0085", 50), 70)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<20 {
			return
		}
		got := Quote(s, max)
		if max >= markerRoom+2 && len(got) > max {
			t.Fatalf("len %d > max %d", len(got), max)
		}
		q, mark, cut := strings.Cut(got, Marker)
		unq, err := strconv.Unquote(q)
		if err != nil {
			t.Fatalf("%s: quoted part %s does not unquote: %v", got, q, err)
		}
		if !cut {
			if unq != s {
				t.Fatalf("uncut %s is not %q", got, s)
			}
			return
		}
		if !strings.HasPrefix(s, unq) || mark != strconv.Itoa(len(s)-len(unq))+" bytes]" {
			t.Fatalf("%s is not a marked prefix of %q", got, s)
		}
		if q != strconv.Quote(unq) {
			t.Fatalf("%s is not quoted as strconv.Quote does", q)
		}
	})
}
