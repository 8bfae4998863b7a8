package authserver

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"", "grant_type=client_credentials", "a=1&a=2", "a=%zz", "a=%ff", "a", "=x", "a=1;b=2", "a=1&&b=2",
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJ.eyJ.sig&scope=a+b",
		"a=%00", "%61=1&a=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := parseForm(body)
		if err != nil {
			return
		}
		if len(m) > maxFormParams {
			t.Fatalf("%d params", len(m))
		}
		// Every accepted body agrees with net/url on the values (which never
		// rejects duplicates, so compare the first value).
		std, err := url.ParseQuery(body)
		if err != nil {
			t.Fatalf("parseForm accepted what url.ParseQuery rejects: %q: %v", body, err)
		}
		for k, v := range m {
			if got := std[k]; len(got) != 1 || got[0] != v {
				t.Fatalf("key %q: parseForm %q, url.ParseQuery %q", k, v, got)
			}
		}
	})
}

func FuzzParseBasic(f *testing.F) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		enc("a:b"), enc("a%3Ab:c%25d"), enc("a"), enc(":b"), enc("a:%zz"), "Basic", "Basic ", "basic YTpi",
		"Bearer x", "Basic YTpi YTpi", "Basic YTpi=", "Basic\tYTpi", enc("a\x00:b"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, ok, err := parseBasic(h)
		if !ok {
			if id != "" || secret != "" || err != nil {
				t.Fatalf("non-Basic returned values")
			}
			return
		}
		if err != nil {
			return
		}
		if id == "" || strings.ContainsAny(id, "\x00\r\n") {
			t.Fatalf("bad id %q accepted", id)
		}
		// Re-encoding the decoded credentials and parsing again is stable.
		again := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		id2, secret2, ok2, err2 := parseBasic(again)
		if !ok2 || err2 != nil || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q/%q: %q/%q %v", id, secret, id2, secret2, err2)
		}
	})
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "a", "a b", "a  b", " a", "a\"b", "mcp:tools mcp:tools"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := parseScope(s)
		if err != nil {
			return
		}
		if strings.Join(out, " ") != s && len(out) == len(strings.Split(s, " ")) {
			t.Fatalf("%q → %q", s, out)
		}
	})
}
