package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// recorded is one request seen by a fake server.
type recorded struct {
	Path   string
	Form   url.Values
	Header http.Header
}

// recorder collects requests.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) add(req *http.Request) recorded {
	_ = req.ParseForm()
	rec := recorded{Path: req.URL.Path, Form: req.PostForm, Header: req.Header.Clone()}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return rec
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

func (r *recorder) paths() []string {
	var out []string
	for _, x := range r.all() {
		out = append(out, x.Path)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fakeAS is an authorization server (or IdP) with RFC 8414 metadata at the
// root and a scriptable token endpoint.
type fakeAS struct {
	srv      *httptest.Server
	rec      recorder
	issuer   string // served issuer; defaults to the server URL
	meta     map[string]any
	token    func(r recorded) (int, any) // token endpoint behaviour
	metaHits atomic.Int32
}

func newFakeAS(t *testing.T, token func(r recorded) (int, any)) *fakeAS {
	t.Helper()
	f := &fakeAS{token: token, meta: map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case wellKnownOAuth:
			f.metaHits.Add(1)
			m := map[string]any{"issuer": f.iss(), "token_endpoint": f.srv.URL + "/token"}
			for k, v := range f.meta {
				m[k] = v
			}
			writeJSON(w, 200, m)
		case "/token":
			rec := f.rec.add(r)
			status, body := f.token(rec)
			writeJSON(w, status, body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAS) iss() string {
	if f.issuer != "" {
		return f.issuer
	}
	return f.srv.URL
}

// bearerOK is a token endpoint that issues numbered Bearer tokens.
func bearerOK(expiresIn int) func(recorded) (int, any) {
	var n atomic.Int32
	return func(r recorded) (int, any) {
		body := map[string]any{"access_token": fmt.Sprintf("at-%d", n.Add(1)), "token_type": "Bearer"}
		if expiresIn > 0 {
			body["expires_in"] = expiresIn
		}
		if s := r.Form.Get("scope"); s != "" {
			body["scope"] = s
		}
		return 200, body
	}
}

// fakeRS is a protected MCP endpoint at /mcp with path-suffixed PRM.
type fakeRS struct {
	srv *httptest.Server
	rec recorder
	// prm returns the PRM document served at path ("" = 404).
	prm func(path string) any
	// inHeader: put resource_metadata in the 401 challenge.
	inHeader bool
	// headerScope: scope param on the 401 challenge.
	headerScope string
	// authorize decides on a request with a bearer token: 0 = OK, else the
	// status and challenge to send.
	authorize func(token string, r *http.Request) (int, string)
}

func newFakeRS(t *testing.T, asURL string) *fakeRS {
	t.Helper()
	f := &fakeRS{inHeader: true}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, wellKnownPRM) {
			f.rec.add(r)
			if doc := f.prm(r.URL.Path); doc != nil {
				writeJSON(w, 200, doc)
				return
			}
			http.NotFound(w, r)
			return
		}
		rec := f.rec.add(r)
		tok := bearerFromHeader(rec.Header)
		if tok == "" {
			ch := `Bearer error="invalid_token"`
			if f.inHeader {
				ch += `, resource_metadata="` + f.srv.URL + wellKnownPRM + `/mcp"`
			}
			if f.headerScope != "" {
				ch += `, scope="` + f.headerScope + `"`
			}
			w.Header().Set("WWW-Authenticate", ch)
			writeJSON(w, 401, map[string]string{"error": "invalid_token"})
			return
		}
		if f.authorize != nil {
			if status, ch := f.authorize(tok, r); status != 0 {
				w.Header().Set("WWW-Authenticate", ch)
				writeJSON(w, status, map[string]string{"error": "denied"})
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(f.srv.Close)
	f.prm = func(path string) any {
		if path != wellKnownPRM+"/mcp" {
			return nil
		}
		return map[string]any{"resource": f.srv.URL + "/mcp", "authorization_servers": []string{asURL}}
	}
	return f
}

func (f *fakeRS) url() string { return f.srv.URL + "/mcp" }

// get performs one request through an authorizing client.
func doGet(t *testing.T, hc *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func mustCC(t *testing.T, creds Credentials) *ClientCredentials {
	t.Helper()
	g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustNew(t *testing.T, cfg Config) *Authorizer {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
