package jose

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var decodeSeeds = []string{
	`{}`, `[]`, `"x"`, `1`, `-0.5e+10`, `true`, `null`,
	`{"a":[1,[2,[3,{"b":"c"}]],[]],"d":{"e":{}},"f":"\u00e9\ud83d\ude00\n\"\\\/"}`,
	` { "sub" : "alice" , "groups" : [ "a" , "b" ] , "n" : 12345678901234567890 } `,
	`{"k":"v","K2":"\u0041"}`,
}

// decodeStd is the reference: encoding/json with UseNumber.
func decodeStd(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range decodeSeeds {
		got, err := DecodeJSON([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		want, _ := decodeStd([]byte(s))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", s, got, want)
		}
	}
	for _, bad := range []string{`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{} {}`, "\"\xff\"", `"\ud800"`, ``, `{`} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzDecodeJSON checks the decoder against encoding/json on every input
// the strict validator accepts.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeJSON(data)
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
