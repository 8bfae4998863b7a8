package core

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

type decodeInner struct {
	Clearance int      `json:"clearance"`
	Teams     []string `json:"teams"`
}

type DecodeEmbedded struct {
	Dept string `json:"dept"`
}

type decodeTarget struct {
	DecodeEmbedded
	Exp     int64                  `json:"exp"`
	Groups  []string               `json:"groups"`
	Key     string                 `json:"key"`
	Ext     decodeInner            `json:"ext"`
	Ptr     *decodeInner           `json:"ptr"`
	List    []decodeInner          `json:"list"`
	ByName  map[string]decodeInner `json:"by_name"`
	NoTag   string
	Skipped string    `json:"-"`
	When    time.Time `json:"when"` // decodes itself
	Any     any       `json:"any"`
}

func claimsOf(t testing.TB, text string) *Claims {
	t.Helper()
	r, err := ParseRawClaims([]byte(text))
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return &Claims{Raw: r}
}

// TestDecodeExactKeys: a claim whose name differs from a field's only in
// case never fills the field (encoding/json alone would match "EXP" to
// "exp"); exact names decode as encoding/json decodes them.
func TestDecodeExactKeys(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"exact names", `{"exp":5,"groups":["a"],"ext":{"clearance":2,"teams":["x"]},"dept":"d","NoTag":"n","unknown":1,"when":"2026-01-02T03:04:05Z"}`, true},
		{"unknown keys ignored", `{"EXTRA":1,"Other":{"Clearance":9}}`, true},
		{"map keys are data", `{"by_name":{"Alice":{"clearance":1},"bob":{"clearance":2}}}`, true},
		{"any takes every key", `{"any":{"Exp":1,"GROUPS":2}}`, true},
		{"skipped field's key", `{"Skipped":"x","-":"y"}`, true},
		{"EXP for exp", `{"EXP":9999999999}`, false},
		{"Groups for groups", `{"Groups":["admin"]}`, false},
		{"Kelvin sign for k", `{"\u212aey":"x"}`, false},
		{"long s for s", `{"group\u017f":["admin"]}`, false},
		{"nested struct", `{"ext":{"Clearance":5}}`, false},
		{"through a pointer", `{"ptr":{"CLEARANCE":5}}`, false},
		{"in a list", `{"list":[{"clearance":1},{"Teams":["x"]}]}`, false},
		{"map value", `{"by_name":{"alice":{"Clearance":5}}}`, false},
		{"promoted field", `{"Dept":"x"}`, false},
		{"untagged field by folded name", `{"notag":"x"}`, false},
		{"outer key folds to the struct", `{"EXT":{"clearance":1}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got decodeTarget
			err := claimsOf(t, tc.text).Decode(&got)
			if tc.ok != (err == nil) {
				t.Fatalf("Decode(%s) = %v, want ok=%v", tc.text, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidClaims) || !strings.Contains(err.Error(), "differs only in case") {
					t.Fatalf("error %v, want ErrInvalidClaims naming the case difference", err)
				}
				if !reflect.DeepEqual(got, decodeTarget{}) {
					t.Fatalf("a refused Decode filled %+v", got)
				}
				return
			}
			var want decodeTarget
			if err := json.Unmarshal([]byte(tc.text), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Decode = %+v, encoding/json = %+v", got, want)
			}
		})
	}
}

// TestDecodeCaseVariantsNeverReachDecode: claims built from a map (the
// introspection path) that hold "exp" and "EXP" side by side are refused when
// built, like a token's, so encoding/json never picks one of them; and
// Decode needs a pointer.
func TestDecodeCaseVariantsNeverReachDecode(t *testing.T) {
	if _, err := RawClaimsFromMap(map[string]any{"exp": 1, "EXP": 2}); !errors.Is(err, jsonscan.ErrCaseVariant) {
		t.Fatalf("got %v, want a case-variant refusal", err)
	}
	var got decodeTarget
	if err := claimsOf(t, `{"exp":1}`).Decode(got); err == nil {
		t.Fatal("Decode into a non-pointer succeeded")
	}
}

// foldedKey is the reference rule over decoded values: the path of a key
// that matches a field of t only by case folding, or "".
func foldedKey(v any, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if selfDecoding(t) {
		return ""
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for _, e := range x {
				if k := foldedKey(e, t.Elem()); k != "" {
					return k
				}
			}
		case reflect.Struct:
			fields := map[string]reflect.Type{}
			for _, f := range reflect.VisibleFields(t) {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if f.Tag.Get("json") == "-" || !f.IsExported() || f.Anonymous && name == "" {
					continue
				}
				if name == "" {
					name = f.Name
				}
				fields[name] = f.Type
			}
			for k, e := range x {
				if ft, ok := fields[k]; ok {
					if fk := foldedKey(e, ft); fk != "" {
						return fk
					}
					continue
				}
				for name := range fields {
					if strings.EqualFold(k, name) {
						return k
					}
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, e := range x {
				if k := foldedKey(e, t.Elem()); k != "" {
					return k
				}
			}
		}
	}
	return ""
}

// FuzzDecodeStrict is differential: Decode refuses exactly the claims that
// the reference rule (over jsonscan.Decode's values) finds a case-folded
// field key in, and otherwise decodes exactly what encoding/json decodes.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"exp":5,"groups":["a"],"ext":{"clearance":2}}`, `{"EXP":1}`, `{"Groups":["admin"]}`,
		`{"\u212aey":"x"}`, `{"list":[{"Teams":["x"]}]}`, `{"by_name":{"a":{"CLEARANCE":1}}}`,
		`{"Dept":"x","dept":"y"}`, `{"ptr":{"teams":["a"],"Teams":["b"]}}`, `{"any":{"EXP":1}}`,
		`{"when":"2026-01-02T03:04:05Z","NoTag":"x"}`, `{"ext":[1,{"Clearance":2}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseRawClaims([]byte(text))
		if err != nil {
			return
		}
		v, err := jsonscan.Decode([]byte(text), jsonscan.Options{})
		if err != nil {
			t.Fatalf("ParseRawClaims accepted what jsonscan.Decode refuses: %v", err)
		}
		folded := foldedKey(v, reflect.TypeFor[decodeTarget]())
		var got decodeTarget
		err = (&Claims{Raw: r}).Decode(&got)
		var want decodeTarget
		werr := json.Unmarshal([]byte(text), &want)
		switch {
		case folded != "" && err == nil:
			t.Fatalf("%s: key %q matches a field only by case, Decode accepted it", text, folded)
		case folded == "" && err != nil && errors.Is(err, ErrInvalidClaims):
			t.Fatalf("%s: no case-folded key, Decode refused: %v", text, err)
		case folded == "" && (err == nil) != (werr == nil):
			t.Fatalf("%s: Decode %v, encoding/json %v", text, err, werr)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%s: Decode %+v, encoding/json %+v", text, got, want)
		}
	})
}
