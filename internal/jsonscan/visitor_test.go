package jsonscan

import (
	"fmt"
	"slices"
	"testing"
)

// recordVisitor records "depth:key=first byte of the value".
type recordVisitor struct {
	in  []byte
	got []string
}

func (r *recordVisitor) VisitMember(depth int, key []byte, value int) {
	r.got = append(r.got, fmt.Sprintf("%d:%s=%c", depth, key, r.in[value]))
}

func TestVisitor(t *testing.T) {
	t.Parallel()
	in := `{"a":1, "b\u0063":{"x":[{"deep":2}],"y":{"z":3}},"d":[{"e":4}]}`
	tests := []struct {
		depth int
		want  []string
	}{
		{0, nil},
		{1, []string{"1:a=1", "1:bc={", "1:d=["}},
		{2, []string{"1:a=1", "1:bc={", "2:x=[", "2:y={", "1:d=["}},
		{3, []string{"1:a=1", "1:bc={", "2:x=[", "2:y={", "3:z=3", "1:d=[", "3:e=4"}},
	}
	for _, tt := range tests {
		r := &recordVisitor{in: []byte(in)}
		if err := Validate([]byte(in), Options{Visitor: r, VisitDepth: tt.depth}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.got, tt.want) {
			t.Errorf("depth %d: got %q, want %q", tt.depth, r.got, tt.want)
		}
	}
}

func TestVisitorValueOffsets(t *testing.T) {
	t.Parallel()
	in := []byte(` { "k" :  "v" , "n": -1 }`)
	var offs []int
	v := visitFunc(func(_ int, _ []byte, value int) { offs = append(offs, value) })
	if err := Validate(in, Options{Visitor: v, VisitDepth: 1}); err != nil {
		t.Fatal(err)
	}
	if len(offs) != 2 || in[offs[0]] != '"' || in[offs[1]] != '-' {
		t.Errorf("offsets %v do not point at the values", offs)
	}
}

type visitFunc func(depth int, key []byte, value int)

func (f visitFunc) VisitMember(depth int, key []byte, value int) { f(depth, key, value) }
