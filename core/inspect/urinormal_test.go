package inspect

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestCheckResourceURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"docs://handbook", true},
		{"docs://payroll/2024", true},
		{"file:///docs/handbook.txt", true},
		{"file:///docs/", true},
		{"file:///docs/team%20notes.txt", true},
		{"file:///", true},
		{"urn:example:a:b", true},
		{"ui://widget/x.html", true},
		{"https://example.com/a/b?q=%2F..%2F&x=..#frag/..", true}, // query and fragment are not the path
		{"https://example.com", true},
		{"test://template/7/data", true},
		{"plain", true},
		{"file:///docs/%68r/x", false},
		{"file:///docs/h%72/x", false},
		{"docs://payroll/%32%30%32%34", false},
		{"docs://%70ayroll", false}, // in the authority
		{"https://h/?q=%7E", false}, // an escaped unreserved character anywhere
		{"file:///docs/hr%2Fx", false},
		{"file:///docs/hr%2fx", false},
		{"file:///docs/hr%5Cx", false},
		{"file:///docs/./hr", false},
		{"file:///docs/../hr", false},
		{"file:///docs/hr/..", false},
		{"file:///docs/hr/.", false},
		{"file:///docs//hr", false},
		{"docs:a//b", false},
		{"file:///docs/%zz", false},
		{"file:///docs/%2", false},
		{"file:///docs/%", false},
	} {
		err := checkResourceURI(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.uri, err, tc.ok)
		}
	}
}

// FuzzCheckResourceURI: an accepted URI's path is already what a handler
// that percent-decodes and cleans it would open, so the policy object and
// the executed path cannot differ in spelling.
func FuzzCheckResourceURI(f *testing.F) {
	for _, s := range []string{"file:///docs/a.txt", "file:///docs/%68r/x", "docs://x/./y", "file:///a%2Fb", "https://h/a%20b?q", "x:y//z", "file:///a/b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if checkResourceURI(uri) != nil {
			return
		}
		u, err := url.Parse(uri)
		if err != nil || u.Opaque != "" || u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return
		}
		start, end := uriPath(uri)
		raw := uri[start:end]
		clean := path.Clean(u.Path)
		if strings.HasSuffix(u.Path, "/") && clean != "/" {
			clean += "/"
		}
		if dec, err := url.PathUnescape(raw); err != nil || dec != u.Path || clean != u.Path {
			t.Fatalf("%q accepted: raw path %q, decoded %q, cleaned %q", uri, raw, u.Path, clean)
		}
		if strings.Contains(u.Path, "\\") && !strings.Contains(raw, "\\") {
			t.Fatalf("%q accepted: a backslash appears only after decoding", uri)
		}
	})
}
