package inspect

import "testing"

// BenchmarkWalk is the strict walk of benchBody alone (validation and the
// member offsets, no message rules, headers or allocation).
func BenchmarkWalk(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	var views []msgView
	for b.Loop() {
		var w walker
		v := newView()
		if _, err := w.body(benchBody, 0, &v, &views); err != nil {
			b.Fatal(err)
		}
	}
}
