package inspect

import (
	"slices"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

func BenchmarkPartWalk(b *testing.B) {
	for b.Loop() {
		var w walker
		v := newView()
		var views []msgView
		if _, err := w.body(benchBody, 0, &v, &views); err != nil {
			b.Fatal(err)
		}
	}
}
func BenchmarkPartValidate(b *testing.B) {
	for b.Loop() {
		if err := jsonscan.Validate(benchBody, jsonscan.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
func BenchmarkPartHeaders(b *testing.B) {
	o := Options{}
	for b.Loop() {
		v, _ := effectiveVersion(benchHeader, &o)
		singleHeader(benchHeader, HeaderSessionID)
		checkContentHeaders(benchHeader)
		checkStandardHeaders(benchHeader, v, &Message{Method: "tools/call", Target: Target{Name: "search_issues"}})
	}
}
func BenchmarkPartBuild(b *testing.B) {
	var w walker
	v := newView()
	var views []msgView
	w.body(benchBody, 0, &v, &views)
	d := decoder{body: benchBody, version: "2025-11-25", maxName: 128, maxURI: 2048}
	for b.Loop() {
		d.build(&v, &Message{})
	}
}
func BenchmarkPartAlloc(b *testing.B) {
	for b.Loop() {
		r := new(Request)
		r.one[0].Target.Name = string(benchBody[10:23])
		sink = r
	}
}

var sink *Request

func BenchmarkPartsMedian(b *testing.B) {
	const round = 16
	parts := []struct {
		name string
		f    func()
	}{
		{"inspect", func() { Inspect("POST", benchHeader, benchBody, Options{}) }},
		{"walk", func() {
			var w walker
			v := newView()
			var views []msgView
			w.body(benchBody, 0, &v, &views)
		}},
		{"validate", func() { jsonscan.Validate(benchBody, jsonscan.Options{}) }},
		{"headers", func() {
			o := Options{}
			v, _ := effectiveVersion(benchHeader, &o)
			singleHeader(benchHeader, HeaderSessionID)
			checkContentHeaders(benchHeader)
			checkStandardHeaders(benchHeader, v, &Message{Method: "tools/call", Target: Target{Name: "search_issues"}})
		}},
		{"alloc", func() {
			r := new(Request)
			r.one[0].Target.Name = string(benchBody[10:23])
			sink = r
		}},
	}
	var w walker
	v := newView()
	var views []msgView
	w.body(benchBody, 0, &v, &views)
	d := decoder{body: benchBody, version: "2025-11-25", maxName: 128, maxURI: 2048}
	parts = append(parts, struct {
		name string
		f    func()
	}{"build", func() { d.build(&v, &Message{}) }})
	ds := make([][]time.Duration, len(parts))
	for b.Loop() {
		for i, p := range parts {
			t0 := time.Now()
			for range round {
				p.f()
			}
			ds[i] = append(ds[i], time.Since(t0))
		}
	}
	for i, p := range parts {
		slices.Sort(ds[i])
		b.ReportMetric(float64(ds[i][len(ds[i])/2])/round, p.name+"-ns")
	}
}
