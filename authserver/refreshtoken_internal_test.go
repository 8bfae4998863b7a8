package authserver

import (
	"strconv"
	"strings"
	"testing"
)

// The refresh token format is handle.generation.secret, read strictly.
func TestParseRefreshToken(t *testing.T) {
	t.Parallel()
	raw, tok := newRefreshToken()
	handle, secret := tok.Handle, raw[strings.LastIndexByte(raw, '.')+1:]
	got, ok := parseRefreshToken(raw)
	if !ok || got != tok || got.Generation != 1 || len(handle) != 22 {
		t.Fatalf("round trip: %+v %v, want %+v", got, ok, tok)
	}
	nraw, next := tok.next()
	if next.Handle != handle || next.Generation != 2 || next.SecretHash == tok.SecretHash || !strings.HasPrefix(nraw, handle+".2.") {
		t.Fatalf("next: %q %+v", nraw, next)
	}
	if strings.Contains(raw, tok.SecretHash) {
		t.Fatal("the token carries its secret's hash")
	}
	tests := []struct {
		name, raw string
		gen       uint64
		ok        bool
	}{
		{"generation 1", handle + ".1." + secret, 1, true},
		{"large generation", handle + ".9007199254740992." + secret, 1 << 53, true},
		{"earlier opaque format", secret, 0, false},
		{"empty", "", 0, false},
		{"generation 0", handle + ".0." + secret, 0, false},
		{"leading zero", handle + ".01." + secret, 0, false},
		{"negative", handle + ".-1." + secret, 0, false},
		{"plus sign", handle + ".+1." + secret, 0, false},
		{"generation over 2^53", handle + ".9007199254740993." + secret, 0, false},
		{"no generation", handle + ".." + secret, 0, false},
		{"short handle", handle[1:] + ".1." + secret, 0, false},
		{"short secret", handle + ".1." + secret[1:], 0, false},
		{"padding", handle + ".1." + secret[:42] + "=", 0, false},
		{"standard base64", strings.Replace(handle, handle[:1], "+", 1) + ".1." + secret, 0, false},
		{"four parts", handle + ".1." + secret + ".x", 0, false},
		{"space", handle + ".1 ." + secret, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRefreshToken(tt.raw)
		if ok != tt.ok || (ok && got.Generation != tt.gen) {
			t.Errorf("%s: %+v %v, want ok=%v generation %d", tt.name, got, ok, tt.ok, tt.gen)
		}
	}
}

func FuzzParseRefreshToken(f *testing.F) {
	raw, _ := newRefreshToken()
	for _, s := range []string{raw, "a.b.c", "..", "AAAAAAAAAAAAAAAAAAAAAA.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := parseRefreshToken(s)
		if !ok {
			return
		}
		if tok.Generation < 1 || tok.Generation > maxRefreshGen || len(tok.Handle) != 22 || len(tok.SecretHash) != 43 {
			t.Fatalf("%q parsed to %+v", s, tok)
		}
		// the parts it accepted print back to the input
		if want := tok.Handle + "." + strconv.FormatUint(tok.Generation, 10) + "."; !strings.HasPrefix(s, want) || len(s) != len(want)+43 {
			t.Fatalf("%q parsed to %+v", s, tok)
		}
	})
}
