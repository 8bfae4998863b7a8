package introspect

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestRequestGolden pins the wire format of the introspection request for
// both client authentication styles.
func TestRequestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file  string
		style AuthStyle
	}{
		{"request_basic.golden", AuthStyleBasic},
		{"request_post.golden", AuthStylePost},
	} {
		var got string
		client := &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			got = dumpRequest(r)
			return inMemoryClient(newFakeAS()).Transport.RoundTrip(r)
		})}
		cfg := baseConfig("https://as.example.com/oauth/introspect", newClock())
		cfg.AuthStyle = tc.style
		cfg.HTTPClient = client
		v, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = v.Verify(context.Background(), "mF_9.B5f-4.1JqM")
		testkit.Golden(t, filepath.Join("testdata", tc.file), []byte(got), *update)
	}
}

// dumpRequest renders the parts of a request that are on the wire and under
// our control, deterministically. It consumes and restores the body.
func dumpRequest(r *http.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
	}
	body, _ := r.GetBody()
	buf := new(strings.Builder)
	if body != nil {
		_, _ = fmt.Fprint(buf, readAll(body))
	}
	fmt.Fprintf(&b, "\n%s\n", buf.String())
	return b.String()
}

func readAll(r interface{ Read([]byte) (int, error) }) string {
	var sb strings.Builder
	p := make([]byte, 512)
	for {
		n, err := r.Read(p)
		sb.Write(p[:n])
		if err != nil {
			return sb.String()
		}
	}
}
