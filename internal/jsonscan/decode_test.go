package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

var decodeSeeds = []string{
	`{}`, `[]`, `"x"`, `1`, `-0.5e+10`, `true`, `null`,
	`{"a":[1,[2,[3,{"b":"c"}]],[]],"d":{"e":{}},"f":"\u00e9\ud83d\ude00\n\"\\\/"}`,
	` { "sub" : "alice" , "groups" : [ "a" , "b" ] , "n" : 12345678901234567890 } `,
	`{"k":"v","K2":"\u0041"}`,
	`{"a\u0062":[{"x":[1,{"y":[]}]},{"x":2}],"c":{"d":[[],[{}]]}}`,
}

// decodeStd is the reference: encoding/json with UseNumber.
func decodeStd(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range decodeSeeds {
		got, err := Decode([]byte(s), Options{})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		want, _ := decodeStd([]byte(s))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", s, got, want)
		}
	}
}

func TestDecodeRefusesWhatValidateRefuses(t *testing.T) {
	t.Parallel()
	for _, bad := range fuzzSeeds {
		verr := Validate([]byte(bad), Options{})
		_, derr := Decode([]byte(bad), Options{})
		if (verr == nil) != (derr == nil) || (verr != nil && verr.Error() != derr.Error()) {
			t.Errorf("%q: Validate %v, Decode %v", bad, verr, derr)
		}
	}
}

func TestDecodeObject(t *testing.T) {
	t.Parallel()
	if m, err := DecodeObject([]byte(` {"a":1}`), Options{}); err != nil || m["a"] != json.Number("1") {
		t.Fatalf("got %v, %v", m, err)
	}
	_, err := DecodeObject([]byte(` [1]`), Options{})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrSyntax) || e.Offset != 1 {
		t.Fatalf("array accepted as object: %v", err)
	}
}

// FuzzDecode checks, on every input, that Decode and Validate agree and
// that what Decode accepts decodes as encoding/json decodes it.
func FuzzDecode(f *testing.F) {
	for _, s := range append(decodeSeeds, fuzzSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data, Options{})
		if verr := Validate(data, Options{}); (verr == nil) != (err == nil) {
			t.Fatalf("Validate %v, Decode %v", verr, err)
		}
		if err != nil {
			return
		}
		want, err := decodeStd(data)
		if err != nil {
			t.Fatalf("strict JSON refused by encoding/json: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	in := []byte(`{"iss":"https://issuer.example.com","sub":"00u1a2b3c4d5e6f7g8h9-user@example.com","aud":"https://mcp.example.com","exp":1900000000,"iat":1700000000,"jti":"4f1c2a8e-6b7d-4c3e-9a1b-2c3d4e5f6a7b","scope":"openid profile tools:call","groups":["engineering","platform-team","sre-oncall","mcp-users","github-admins"]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
