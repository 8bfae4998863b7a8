package core

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzCheck drives the whole pipeline with arbitrary Authorization header,
// query, session id and body: Check never panics, returns either a Result
// with a principal or an *Error, and Render always yields a known status, a
// JSON body and, when present, a parseable challenge.
func FuzzCheck(f *testing.F) {
	f.Add("Bearer "+tokAlice, "", "", toolCall("ls"))
	f.Add("Bearer "+tokAlice, "", "s1", toolsList)
	f.Add("bearer x", "access_token=1", "", "{}")
	f.Add("Bearer "+tokAlice, "", "", "["+toolCall("rm")+"]")
	f.Add("", "", "", "")
	g := newGuard(f)
	f.Fuzz(func(t *testing.T, auth, query, session, body string) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		if auth != "" {
			h.Set("Authorization", auth)
		}
		if session != "" {
			h.Set("Mcp-Session-Id", session)
		}
		res, err := g.Check(context.Background(), &Request{Method: "POST", RawQuery: query, Header: h, Body: []byte(body)})
		if err == nil {
			if res == nil || res.Principal == nil {
				t.Fatal("allowed without a principal")
			}
			return
		}
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error of type %T", err)
		}
		r := g.Render(err)
		switch r.Status {
		case 400, 401, 403, 404, 405, 413, 415, 500, 503:
		default:
			t.Fatalf("status %d", r.Status)
		}
		if !json.Valid(r.Body) {
			t.Fatalf("body %q", r.Body)
		}
		if wa := r.Header.Get("WWW-Authenticate"); wa != "" {
			if _, err := ParseChallenge(wa); err != nil {
				t.Fatalf("challenge %q: %v", wa, err)
			}
		}
		if len(auth) > 12 && strings.Contains(string(r.Body), auth) {
			t.Fatal("response echoes the Authorization header")
		}
	})
}
