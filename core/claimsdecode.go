package core

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode"

	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// Decode decodes Raw into v (a pointer, usually to a struct) for callers
// that prefer typed custom claims. With no claims it leaves v as it is.
//
// Object keys match struct fields exactly, as everywhere else in token
// parsing: a field's json tag name, or for an untagged field its Go name as
// encoding/json writes it (an untagged Name matches "Name", not "name": tag
// it `json:"name"`), not case-insensitively as encoding/json alone would match them:
// a claim whose name differs from a field's JSON name only in case ("EXP"
// for "exp", "Groups" for "groups", a Kelvin sign for "k") is refused with
// ErrInvalidClaims instead of filling the field, at every depth (nested
// structs, slices and map values of structs). Duplicate keys and keys that
// differ only in case within one object are refused too (internal/jsonscan,
// the project's one strict scanner, walks the claims first). Keys that
// match no field are ignored, as by encoding/json. Values of types that
// decode themselves (json.Unmarshaler, encoding.TextUnmarshaler) are left
// to them.
func (c *Claims) Decode(v any) error {
	if c == nil || c.Raw.Len() == 0 {
		return nil
	}
	data := []byte(c.Raw.s.text)
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("core: Claims.Decode needs a non-nil pointer, got %T", v)
	}
	d := strictDecoder{data: data, fields: map[reflect.Type]map[string][]reflect.Type{}}
	d.sc.Reset(data, 0)
	if err := d.value(rv.Type().Elem(), 0, ""); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidClaims, err)
	}
	if err := d.sc.Finish(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidClaims, err)
	}
	return json.Unmarshal(data, v)
}

// strictDecoder walks JSON text with the target type beside it and refuses
// the keys encoding/json would match to a field only by case folding.
type strictDecoder struct {
	data   []byte
	sc     jsonscan.Scanner
	fields map[reflect.Type]map[string][]reflect.Type // struct type → JSON names → field types
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value reads the value at the cursor as a t (depth: its container's).
func (d *strictDecoder) value(t reflect.Type, depth int, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		if selfDecoding(t) {
			t = nil
			break
		}
		t = t.Elem()
	}
	if t != nil && selfDecoding(t) {
		t = nil
	}
	switch {
	case t == nil:
	case d.sc.Peek() == '{' && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map):
		var o jsonscan.Object
		if err := d.sc.OpenObject(&o, depth); err != nil {
			return err
		}
		var names map[string][]reflect.Type
		if t.Kind() == reflect.Struct {
			names = d.structFields(t)
		}
		for {
			key, ok, err := d.sc.NextMember(&o)
			if err != nil || !ok {
				return err
			}
			var types []reflect.Type
			if t.Kind() == reflect.Map {
				types = []reflect.Type{t.Elem()}
			} else if types = names[string(key)]; types == nil {
				for name := range names {
					if bytes.EqualFold(key, []byte(name)) {
						// Say how to fix it: an untagged Name field
						// is written "Name" by encoding/json and matches
						// only that; a tag names the claim exactly.
						k := quoteKey("", key)
						return fmt.Errorf("claim %s differs only in case from the field %q (Claims.Decode matches names exactly, as encoding/json writes them; if the issuer's claim really is %s, tag the field `json:%s`)",
							quoteKey(path, key), name, k, k)
					}
				}
			}
			if len(types) == 1 {
				err = d.value(types[0], depth+1, path+string(key)+".")
			} else {
				// Ambiguous (promoted fields of one name) or unknown:
				// check the value against each type it may decode into.
				err = d.multi(types, depth+1, path+string(key)+".")
			}
			if err != nil {
				return err
			}
		}
	case d.sc.Peek() == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		var a jsonscan.Array
		if err := d.sc.OpenArray(&a, depth); err != nil {
			return err
		}
		for {
			ok, err := d.sc.NextElement(&a)
			if err != nil || !ok {
				return err
			}
			if err := d.value(t.Elem(), depth+1, path); err != nil {
				return err
			}
		}
	}
	return d.sc.Value(depth)
}

// multi checks the value at the cursor against every type in types (none:
// only validated): the value is validated once, then walked again for each
// type by a fresh decoder over its text.
func (d *strictDecoder) multi(types []reflect.Type, depth int, path string) error {
	start := d.sc.Pos()
	if err := d.sc.Value(depth); err != nil || len(types) == 0 {
		return err
	}
	text := d.data[start:d.sc.Pos()]
	for _, t := range types {
		sub := strictDecoder{data: text, fields: d.fields}
		sub.sc.Reset(text, 0)
		if err := sub.value(t, 0, path); err != nil {
			return err
		}
	}
	return nil
}

func selfDecoding(t reflect.Type) bool {
	return t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) ||
		t.Kind() != reflect.Pointer && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler))
}

// structFields returns the JSON names encoding/json may match to fields of
// t, promoted fields of embedded structs included, with their types. A name
// that several fields carry lists every type (encoding/json picks one or
// none; checking all is stricter, never looser).
func (d *strictDecoder) structFields(t reflect.Type) map[string][]reflect.Type {
	if m, ok := d.fields[t]; ok {
		return m
	}
	m := map[string][]reflect.Type{}
	d.fields[t] = m // recursive embedding ends here
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for n, types := range d.structFields(et) {
					m[n] = append(m[n], types...)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" || !validTagName(name) {
			name = f.Name
		}
		m[name] = append(m[name], ft)
	}
	return m
}

// validTagName is encoding/json's rule for a usable name in a json tag.
func validTagName(s string) bool {
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// quoteKey is path+key quoted for an error text, at most MaxLogField bytes
// once quoted (clip.Quote).
func quoteKey(path string, key []byte) string {
	return clip.Quote(path+string(key), MaxLogField)
}
