package b64

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// reference is what Decode must do: encoding/base64's strict, unpadded
// base64url decoder, except that '\r' and '\n' (which it skips) are refused.
func reference(src string) ([]byte, bool) {
	if strings.ContainsAny(src, "\r\n") {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(src)
	return b, err == nil
}

// check fails t unless Decode and DecodeString agree with reference on src.
func check(t *testing.T, src string) {
	t.Helper()
	want, ok := reference(src)
	got, err := DecodeString(src)
	if (err == nil) != ok {
		t.Fatalf("%q: error %v, reference accepts=%v", src, err, ok)
	}
	if !ok {
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%q: got %x, want %x", src, got, want)
	}
	// A destination with spare room: same bytes, nothing written past n.
	dst := bytes.Repeat([]byte{0xa5}, len(want)+16)
	n, err := Decode(dst, src)
	if err != nil || n != len(want) || !bytes.Equal(dst[:n], want) {
		t.Fatalf("%q: Decode into a larger buffer: n=%d err=%v", src, n, err)
	}
	for i, c := range dst[n:] {
		if c != 0xa5 {
			t.Fatalf("%q: byte %d past the output was written", src, n+i)
		}
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		ok        bool
	}{
		{"empty", "", true},
		{"one byte", "QQ", true},
		{"two bytes", "QUI", true},
		{"three bytes", "QUJD", true},
		{"eight chars", "QUJDREVG", true},
		{"every char", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", true},
		{"length 1 mod 4", "QUJDR", false},
		{"single char", "Q", false},
		{"trailing bits set, 2 chars", "QR", false},
		{"trailing bits set, 3 chars", "QUJ", false},
		{"padding", "QQ==", false},
		{"std alphabet plus", "a+b/", false},
		{"space", "QU JD", false},
		{"CR", "QUJD\rQUJD", false},
		{"LF", "QUJD\nQUJD", false},
		{"dot", "QUJD.UJD", false},
		{"NUL", "QUJD\x00UJD", false},
		{"high byte", "QUJD\xffUJD", false},
		{"bad char in 8-block tail", "QUJDREV!", false},
		{"bad char in last quantum", "QUJDREVGQUJ!", false},
		{"bad char in final pair", "QUJDREVGQ!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodeString(tt.src); (err == nil) != tt.ok {
				t.Fatalf("DecodeString(%q) error %v, want ok=%v", tt.src, err, tt.ok)
			}
			check(t, tt.src)
		})
	}
}

// TestDecodeAllLengths round-trips every length up to 200 bytes and, for
// each, corrupts the first and last 12 characters (every step and tail
// shape of the decoder) with each class of bad or boundary byte.
func TestDecodeAllLengths(t *testing.T) {
	t.Parallel()
	for n := 0; n <= 200; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*131 + n*7)
		}
		enc := base64.RawURLEncoding.EncodeToString(b)
		check(t, enc)
		for i := 0; i < len(enc); i++ {
			if i == 12 && len(enc) > 24 {
				i = len(enc) - 12
			}
			for _, c := range []byte{'=', '+', '/', '.', ' ', '\n', 0x80, 'A', '_'} {
				check(t, enc[:i]+string(c)+enc[i+1:])
			}
		}
		check(t, enc+"A")
	}
}

func TestDecodeShortDestination(t *testing.T) {
	t.Parallel()
	if _, err := Decode(make([]byte, 2), "QUJD"); err == nil {
		t.Fatal("short destination accepted")
	}
}

func TestDecodeAllocs(t *testing.T) {
	src := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("claims"), 200))
	dst := make([]byte, DecodedLen(len(src)))
	if n := testing.AllocsPerRun(100, func() { _, _ = Decode(dst, src) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// FuzzDifferential: for every input, Decode accepts exactly what
// encoding/base64's strict unpadded base64url decoder accepts (minus CR and
// LF, which it skips) and produces the same bytes.
func FuzzDifferential(f *testing.F) {
	for _, s := range []string{"", "QQ", "QR", "QUI", "QUJ", "QUJD", "QUJDREVGSA", "QQ==", "a+b/", "QUJD\nQUJD", "Q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		check(t, src)
	})
}

func benchInput() string {
	b := make([]byte, 780)
	for i := range b {
		b[i] = byte(i * 37)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func BenchmarkDecode(b *testing.B) {
	src := benchInput()
	dst := make([]byte, DecodedLen(len(src)))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Decode(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlib is encoding/base64's strict decoder on the same input,
// for comparison.
func BenchmarkStdlib(b *testing.B) {
	src := []byte(benchInput())
	enc := base64.RawURLEncoding.Strict()
	dst := make([]byte, enc.DecodedLen(len(src)))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := enc.Decode(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}
