package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"flag"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// wireDump renders recorded token requests deterministically: server URLs
// replaced by placeholders, client assertions masked.
func wireDump(reqs []recorded, repl *strings.Replacer) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString("POST " + r.Path + "\n")
		if v := r.Header.Get("Authorization"); v != "" {
			b.WriteString("Authorization: " + v + "\n")
		}
		b.WriteString("Content-Type: " + r.Header.Get("Content-Type") + "\n")
		keys := make([]string, 0, len(r.Form))
		for k := range r.Form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := r.Form.Get(k)
			if k == "client_assertion" {
				v = "<JWS " + string(rune('0'+strings.Count(v, "."))) + " dots>"
			}
			b.WriteString(k + "=" + repl.Replace(v) + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name), []byte(got), *update)
}

func TestWireGolden(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ccCases := []struct {
		file  string
		creds Credentials
	}{
		{"cc_basic.golden", Credentials{ClientID: "svc", ClientSecret: "s3cr3t"}},
		{"cc_post.golden", Credentials{ClientID: "svc", ClientSecret: "s3cr3t", Method: AuthClientSecretPost}},
		{"cc_private_key_jwt.golden", Credentials{ClientID: "svc", Key: key}},
	}
	for _, tc := range ccCases {
		as := newFakeAS(t, bearerOK(60))
		rs := newFakeRS(t, as.srv.URL)
		rs.headerScope = "mcp:tools"
		a := mustNew(t, Config{ServerURL: rs.url(), Grant: mustCC(t, tc.creds)})
		if resp := doGet(t, a.HTTPClient(nil), rs.url()); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", tc.file, resp.StatusCode)
		}
		repl := strings.NewReplacer(as.srv.URL, "{AS}", rs.srv.URL, "{RS}")
		checkGolden(t, tc.file, wireDump(as.rec.all(), repl))
	}

	e := newEMA(t, idjagOK("N_A"), bearerOK(60), nil)
	if err := e.a.HandleUnauthorized(context.Background(), http.Header{"Www-Authenticate": {`Bearer scope="mcp:tools"`}}, ""); err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer(e.as.srv.URL, "{AS}", e.rs.srv.URL, "{RS}", e.idp.srv.URL, "{IDP}")
	checkGolden(t, "ema.golden", wireDump(append(e.idp.rec.all(), e.as.rec.all()...), repl))
}
