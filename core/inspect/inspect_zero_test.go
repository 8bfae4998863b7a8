package inspect

import (
	"reflect"
	"testing"
)

// TestRequestZero: zero is false whenever any field of a Request or of its
// inline Message is set, so InspectInto never skips clearing a stale one
// (a field added later must be added to zero, or this test fails).
func TestRequestZero(t *testing.T) {
	t.Parallel()
	var r Request
	if !r.zero() {
		t.Fatal("zero Request: zero() is false")
	}
	set := func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Uint8:
			v.SetUint(1)
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 0, 1))
		case reflect.Map:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			t.Fatalf("field kind %v not covered", v.Kind())
		}
	}
	rt := reflect.TypeOf(r)
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Name == "one" {
			continue
		}
		var x Request
		set(reflect.ValueOf(&x).Elem().Field(i))
		if x.zero() {
			t.Errorf("Request.%s set: zero() is true", f.Name)
		}
	}
	mt := reflect.TypeOf(Message{})
	for i := range mt.NumField() {
		var x Request
		fv := reflect.ValueOf(&x.one[0]).Elem().Field(i)
		if fv.Kind() == reflect.Struct { // Target: each of its fields
			for j := range fv.NumField() {
				var y Request
				set(reflect.ValueOf(&y.one[0]).Elem().Field(i).Field(j))
				if y.zero() {
					t.Errorf("Message.%s.%s set: zero() is true", mt.Field(i).Name, fv.Type().Field(j).Name)
				}
			}
			continue
		}
		set(fv)
		if x.zero() {
			t.Errorf("Message.%s set: zero() is true", mt.Field(i).Name)
		}
	}
}
