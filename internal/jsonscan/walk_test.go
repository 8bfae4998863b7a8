package jsonscan

import (
	"encoding/binary"
	"fmt"
	"slices"
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

func TestStringEnd(t *testing.T) {
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
		end, esc := StringEnd([]byte(tt.in), 0)
		if end != tt.end || esc != tt.esc {
			t.Errorf("StringEnd(%q) = %d, %v; want %d, %v", tt.in, end, esc, tt.end, tt.esc)
		}
	}
}

// walkAll renders a validated value through the walk helpers, for
// comparison with Decode.
func walkAll(d []byte, i int) any {
	switch d[i] {
	case '{':
		m := map[string]any{}
		it := Members(d, i)
		var buf [8]byte
		for it.Next() {
			m[string(it.Key(buf[:]))] = walkAll(d, it.Value())
			it.Skip()
		}
		return m
	case '"':
		s, _ := String(d, i)
		return s
	default:
		return string(d[i:ValueEnd(d, i)])
	}
}

func TestWalkMatchesDecode(t *testing.T) {
	t.Parallel()
	in := []byte(` { "a\u0062" : "x\ny" , "n": -1.5e3 , "o": {"k\"":[1,{"z":"}"}] , "e":{}}, "l":"\ud83d\ude00", "t": true } `)
	if err := Validate(in, Options{}); err != nil {
		t.Fatal(err)
	}
	got := walkAll(in, SkipWS(in, 0)).(map[string]any)
	want := map[string]any{"ab": "x\ny", "n": "-1.5e3", "l": "😀", "t": "true"}
	o := got["o"].(map[string]any)
	if o[`k"`] != `[1,{"z":"}"}]` || fmt.Sprint(o["e"]) != "map[]" {
		t.Errorf("nested object walked as %#v", o)
	}
	delete(got, "o")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestMembersAdvanceAndAutoSkip(t *testing.T) {
	t.Parallel()
	in := []byte(`{"a":[1,2],"b":{"c":3},"d":"e"}`)
	var keys []string
	it := Members(in, 0)
	for it.Next() { // no Skip: Next skips the value itself
		keys = append(keys, string(it.Key(nil)))
	}
	if !slices.Equal(keys, []string{"a", "b", "d"}) {
		t.Errorf("keys %q", keys)
	}
	if got, end := AppendString([]byte("x"), []byte(`"\u00e9\t"`), 0); string(got) != "xé\t" || end != 10 {
		t.Errorf("AppendString = %q, %d", got, end)
	}
	if got, _ := AppendString(nil, []byte(`"\n"`), 0); string(got) != "\n" {
		t.Errorf("AppendString(nil) escape = %q", got)
	}
}

// FuzzWalk checks that on every valid input the walk helpers find the same
// members and strings as Decode.
func FuzzWalk(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data, Options{})
		if err != nil {
			return
		}
		i := SkipWS(data, 0)
		if end := SkipWS(data, ValueEnd(data, i)); end != len(data) {
			t.Fatalf("ValueEnd stops at %d of %d", end, len(data))
		}
		var check func(v any, i int)
		check = func(v any, i int) {
			switch t2 := v.(type) {
			case map[string]any:
				n := 0
				it := Members(data, i)
				for it.Next() {
					k := string(it.Key(nil))
					e, ok := t2[k]
					if !ok {
						t.Fatalf("walk found key %q that Decode did not", k)
					}
					check(e, it.Value())
					it.Skip()
					n++
				}
				if n != len(t2) {
					t.Fatalf("walk found %d members, Decode %d", n, len(t2))
				}
			case string:
				if s, _ := String(data, i); s != t2 {
					t.Fatalf("String = %q, Decode %q", s, t2)
				}
			}
		}
		check(v, i)
	})
}
