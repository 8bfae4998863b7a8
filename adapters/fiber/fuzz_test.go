package fibermcp

import (
	"net/http"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzNewRequest: for any request fasthttp accepts, newRequest never
// panics and copies every header value (but Host) under its canonical name,
// in order, plus path and query.
func FuzzNewRequest(f *testing.F) {
	f.Add("POST /mcp?a=b HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\nauthorization: Bearer y\r\nContent-Length: 2\r\n\r\n{}")
	f.Add("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\nX-\xff: \xfe\r\nMcp-Session-Id: s\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		var req fasthttp.Request
		if err := req.Read(bufioReader(raw)); err != nil {
			return
		}
		want := http.Header{}
		req.Header.VisitAll(func(k, v []byte) {
			if string(k) != "Host" {
				want.Add(string(k), string(v)) // Add canonicalises the name
			}
		})
		path, query := string(req.URI().Path()), string(req.URI().QueryString())
		got := newRequest(&req, nil)
		if got.Path != path || got.RawQuery != query || got.Method != string(req.Header.Method()) {
			t.Fatalf("got %q %q %q", got.Method, got.Path, got.RawQuery)
		}
		if len(got.Header) != len(want) {
			t.Fatalf("header %q, want %q", got.Header, want)
		}
		for k, vs := range want {
			g := got.Header[k]
			if len(g) != len(vs) {
				t.Fatalf("%s = %q, want %q", k, g, vs)
			}
			for i := range vs {
				if g[i] != vs[i] {
					t.Fatalf("%s = %q, want %q", k, g, vs)
				}
			}
		}
	})
}
