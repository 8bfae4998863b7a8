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

// FuzzLoginCookie: a login cookie or consent form value that was not
// sealed by this server (or was sealed for the other purpose) never
// opens, and opening never panics; a sealed one round-trips.
func FuzzLoginCookie(f *testing.F) {
	var br broker
	if err := br.setKeys(testCodeKey(9)); err != nil {
		f.Fatal(err)
	}
	// sealed once under that key (the nonce is random: fuzzing workers
	// cannot share a value sealed at run time)
	const good = "WbioHefG.OT3a64jhh5i4-p14lXiv1GY3FDSVb9GF-TUReKIRef32gW2CMWVTzXTwi0-vY0JSEPjmBPMgEhNZnElpV2a7Qlk-XKrywkfTvm9r8sxkzy8cQd8-VFBR7Q1QwGv3RO_40j0"
	const form = "WbioHefG.bV8et7rm8C3yhgdoacfUGkHKdVi6EnsVy8MWwXfIc4a44x5vrk6I0ZZTOxaUp1yvaKm0Ro5lgcL1lQsB2us"
	var ls loginState
	var cs consentState
	if br.logins.open(good, &ls) != nil || ls.Req.ClientID != "c" || br.forms.open(form, &cs) != nil || cs.Subject != "dave" {
		f.Fatal("the sealed seeds do not open")
	}
	if br.forms.open(good, &cs) == nil || br.logins.open(form, &ls) == nil {
		f.Fatal("a value opened for the other purpose")
	}
	// good[9:] is the value without its key id (the format before key
	// rings): refused.
	for _, s := range []string{good, form, "", "AAAA", good[:len(good)-1], good[9:], "AAAAAAAA." + good[9:], strings.Repeat("A", maxLoginCookie+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ls loginState
		if br.logins.open(s, &ls) == nil && s != good {
			t.Fatalf("opened a login cookie the server did not seal: %q", s)
		}
		var cs consentState
		if br.forms.open(s, &cs) == nil && s != form {
			t.Fatalf("opened a consent form the server did not seal: %q", s)
		}
	})
}
