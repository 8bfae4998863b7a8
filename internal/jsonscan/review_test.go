package jsonscan

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// keyPieces build object keys for the conflict oracle: ASCII letters in
// both cases, escaped ASCII, and the non-ASCII runes that fold to ASCII
// letters (KELVIN SIGN, LONG S), raw and escaped.
var keyPieces = []string{
	"a", "A", "k", "K", "s", "S", "m", "M", "e", "_", "1", "@", "`",
	`\u006b`, `\u004B`, `\u0073`, `\u006D`, `\"`, `\\`, `\/`, "/",
	// from here on, not ASCII
	`\u212A`, `\u212a`, "\u212A", `\u017F`, "\u017F", "é", "É", `\u00e9`,
}

// asciiPieces is how many of keyPieces are ASCII: objects of such keys
// only take the fold-bit filter.
const asciiPieces = 21

func randKey(r *rand.Rand, ascii bool) string {
	pieces := keyPieces
	if ascii {
		pieces = keyPieces[:asciiPieces]
	}
	var b strings.Builder
	for n := r.IntN(13); n > 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func unquoteKey(t *testing.T, raw string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal([]byte(`"`+raw+`"`), &s); err != nil {
		t.Fatalf("bad generated key %q: %v", raw, err)
	}
	return s
}

// conflictFree draws up to n keys, none equal to or a case variant of
// another under strings.EqualFold (Unicode simple folding).
func conflictFree(t *testing.T, r *rand.Rand, n int, ascii bool) []string {
	var keys, plain []string
outer:
	for len(keys) < n {
		k := randKey(r, ascii)
		u := unquoteKey(t, k)
		for _, p := range plain {
			if strings.EqualFold(p, u) {
				continue outer
			}
		}
		keys, plain = append(keys, k), append(plain, u)
	}
	return keys
}

// TestKeyConflictOracle checks the duplicate and case-variant rules (and
// the fold-bit filter that skips comparisons) against an independent
// oracle, strings.EqualFold over every pair of unescaped keys, in objects
// of 1 to 40 keys (both sides of the switch to the folded map), with
// nested objects in between whose keys must not leak into the outer
// object's checks.
func TestKeyConflictOracle(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 400; iter++ {
		n := 1 + r.IntN(40)
		ascii := r.IntN(2) == 0
		var keys []string
		if r.IntN(2) == 0 {
			keys = conflictFree(t, r, n, ascii)
			if r.IntN(2) == 0 && len(keys) > 1 {
				// Plant one conflict: an exact or case-folded copy of an
				// earlier key, written differently.
				i := r.IntN(len(keys) - 1)
				k := keys[i]
				switch r.IntN(5) {
				case 0:
				case 1:
					k = strings.ToUpper(unquoteKey(t, k))
				case 2:
					k = strings.ReplaceAll(strings.ReplaceAll(unquoteKey(t, k), "k", "\u212A"), "s", `\u017f`)
				case 3:
					k = strings.ReplaceAll(strings.ReplaceAll(unquoteKey(t, k), "m", `\u006d`), "K", `\u006b`)
				case 4:
					// One letter's case flipped (the last one, which the
					// fold bit also reads).
					u := []byte(unquoteKey(t, k))
					for j := len(u) - 1; j >= 0; j-- {
						if c := u[j] | 0x20; c >= 'a' && c <= 'z' {
							u[j] ^= 0x20
							break
						}
					}
					k = string(u)
				}
				k = strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), `"`, `\"`)
				k = strings.ReplaceAll(k, `\\u`, `\u`) // keep the escapes planted above
				if _, err := json.Marshal(k); err == nil && json.Valid([]byte(`"`+k+`"`)) {
					keys = append(keys, k)
				}
			}
		} else {
			for ; n > 0; n-- {
				keys = append(keys, randKey(r, ascii))
			}
		}
		var b strings.Builder
		b.WriteString("{")
		wantOff, wantKind := -1, error(nil)
		var plain []string
		for j, k := range keys {
			if j > 0 {
				b.WriteString([]string{",", " , ", ",\n"}[r.IntN(3)])
			}
			u := unquoteKey(t, k)
			if wantOff < 0 {
				for _, p := range plain {
					if strings.EqualFold(p, u) {
						wantOff, wantKind = b.Len(), ErrCaseVariant
						if p == u {
							wantKind = ErrDuplicateKey
						}
						break
					}
				}
			}
			plain = append(plain, u)
			b.WriteString(`"` + k + `"`)
			b.WriteString([]string{":", " : ", ":\t"}[r.IntN(3)])
			if r.IntN(4) == 0 {
				// A nested object reusing the outer keys (and escapes).
				b.WriteString("{")
				for i, nk := range conflictFree(t, r, 1+r.IntN(8), ascii) {
					if i > 0 {
						b.WriteString(",")
					}
					b.WriteString(`"` + nk + `":[` + `{"` + k + `":0}]`)
				}
				b.WriteString("}")
			} else {
				b.WriteString("1")
			}
		}
		b.WriteString("}")
		data := []byte(b.String())
		check := func(what string, err error) {
			t.Helper()
			if wantKind == nil {
				if err != nil {
					t.Fatalf("%s(%s) = %v, want nil", what, data, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != wantKind || e.Offset != wantOff {
				t.Fatalf("%s(%s) = %v, want %v at %d", what, data, err, wantKind, wantOff)
			}
		}
		check("Validate", Validate(data, Options{}))
		_, err := Decode(data, Options{})
		check("Decode", err)
		_, err = cursorWalk(data, 0, 0)
		check("Scanner", err)
	}
}

// stringPieces are placed at every offset of the 8-byte windows; valid
// says whether a string holding one is valid strict JSON.
var stringPieces = []struct {
	s     string
	valid bool
}{
	{`\"`, true}, {`\\`, true}, {`\/`, true}, {`\n`, true}, {`\u0041`, true}, {`\u00e9`, true},
	{`\ud83d\ude00`, true}, {`\ud83d`, false}, {`\ude00`, false}, {`\ud83dx`, false}, {`\x`, false}, {`\u1x`, false},
	{"é", true}, {"\u212A", true}, {"\U0001F600", true}, {"\x7f", true}, {" ", true}, {"!", true}, {"#", true}, {"[", true}, {"]", true},
	{"\xff", false}, {"\xc3", false}, {"\xe2\x84", false}, {"\xed\xa0\x80", false}, {"\xc0\xaf", false},
	{"\x00", false}, {"\x1f", false}, {"\t", false}, {"\n", false}, {`\`, false}, {`"`, false},
}

// TestStringWindows puts every piece (and every byte value) at every
// offset of the 8-byte fast paths, with strings ending exactly at the end
// of the input, as a top-level string, an object key and a member value,
// through Validate, Decode and the Scanner, against encoding/json.
func TestStringWindows(t *testing.T) {
	t.Parallel()
	type piece struct {
		s     string
		valid bool
	}
	var pieces []piece
	for _, p := range stringPieces {
		pieces = append(pieces, piece{p.s, p.valid})
	}
	for c := 0; c < 256; c++ {
		s := string([]byte{byte(c)})
		pieces = append(pieces, piece{s, c >= 0x20 && c < 0x80 && c != '"' && c != '\\'})
	}
	for _, p := range pieces {
		for pre := 0; pre <= 9; pre++ {
			for post := 0; post <= 8; post++ {
				body := strings.Repeat("a", pre) + p.s + strings.Repeat("z", post)
				for _, form := range []struct{ prefix, suffix string }{
					{`"`, `"`}, {`{"`, `":1}`}, {`{"k":"`, `"}`}, {`["`, `"]`}, {`{"0#":1,"`, `":"` + body + `"}`},
				} {
					data := []byte(form.prefix + body + form.suffix)
					data = data[:len(data):len(data)]
					err := Validate(data, Options{})
					if (err == nil) != p.valid {
						t.Fatalf("Validate(%q) = %v, want valid %v", data, err, p.valid)
					}
					if ok := json.Valid(data) && utf8.Valid(data); p.valid && !ok {
						t.Fatalf("%q: encoding/json disagrees", data)
					}
					if _, derr := Decode(data, Options{}); (derr == nil) != p.valid {
						t.Fatalf("Decode(%q) = %v", data, derr)
					}
					if _, cerr := cursorWalk(data, 0, 0); (cerr == nil) != p.valid {
						t.Fatalf("Scanner(%q) = %v", data, cerr)
					}
					if form.prefix == `"` && p.valid {
						var c Scanner
						c.Reset(data, 0)
						raw, esc, err := c.String()
						end, wantEsc := StringEnd(data, 0)
						if err != nil || string(raw) != body || esc != wantEsc || c.Pos() != end || c.Finish() != nil {
							t.Fatalf("Scanner.String(%q) = %q %v %v at %d", data, raw, esc, err, c.Pos())
						}
					}
					// Every truncation is refused without reading past the end.
					for cut := max(0, len(data)-12); p.valid && cut < len(data); cut++ {
						d := append([]byte(nil), data[:cut]...)
						if Validate(d, Options{}) == nil {
							t.Fatalf("Validate(%q) accepted a truncation", d)
						}
					}
				}
			}
		}
	}
}

// craftedKeyBodies are about 1 MiB bodies built to make the duplicate
// checks expensive: objects of 16 keys of 64 bytes that share their fold
// bit (same length, first, second and last bytes) and differ only in the
// byte before last, so that every pair is compared to its end; one object
// of many such keys (the folded map); and, as the baseline, the same keys
// as strings in an array (no key checks).
func craftedKeyBodies() map[string][]byte {
	key := func(i int) string {
		k := []byte("aa" + strings.Repeat("x", 58) + "0000a")
		for j := 0; j < 4; j++ {
			k[63-j] = "0123456789abcdef"[i>>(4*j)&15]
		}
		return string(k)
	}
	var collide strings.Builder
	collide.WriteString("[")
	for collide.Len() < 1<<20 {
		if collide.Len() > 1 {
			collide.WriteString(",")
		}
		collide.WriteString("{")
		for i := 0; i < smallObject; i++ {
			if i > 0 {
				collide.WriteString(",")
			}
			collide.WriteString(`"` + key(i) + `":0`)
		}
		collide.WriteString("}")
	}
	collide.WriteString("]")
	var big strings.Builder
	big.WriteString("{")
	for i := 0; big.Len() < 1<<20; i++ {
		if i > 0 {
			big.WriteString(",")
		}
		big.WriteString(`"` + key(i) + `":0`)
	}
	big.WriteString("}")
	var plain strings.Builder // the same bytes as strings in an array: no key checks
	plain.WriteString("[")
	for i := 0; plain.Len() < 1<<20; i++ {
		if i > 0 {
			plain.WriteString(",")
		}
		plain.WriteString(`"` + key(i) + `",0`)
	}
	plain.WriteString("]")
	return map[string][]byte{"collide16": []byte(collide.String()), "bigobject": []byte(big.String()), "plain": []byte(plain.String())}
}

// BenchmarkCraftedKeys compares the scanner with the frozen previous one on
// craftedKeyBodies (the fold-bit filter must not make them slower):
// go test -run '^$' -bench CraftedKeys -count 6 ./internal/jsonscan
func BenchmarkCraftedKeys(b *testing.B) {
	for _, name := range []string{"plain", "collide16", "bigobject"} {
		body := craftedKeyBodies()[name]
		if err := Validate(body, Options{}); err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/prev", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				if err := refValidate(body, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/new", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				if err := Validate(body, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
