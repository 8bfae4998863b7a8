package devidp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPolicy = `{"grants":[
 {"server":"demo","groups":["engineering"],"scopes":["mcp:tools","mcp:deploy"]},
 {"server":"demo","users":["bob"],"scopes":["mcp:tools"]}]}`

func newTestIdP(t *testing.T) (*IdP, *httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pol, []byte(testPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	idp, err := New(Config{
		Issuer:     srv.URL,
		Users:      []User{{Name: "alice", Groups: []string{"engineering"}}, {Name: "bob", Groups: []string{"marketing"}}, {Name: "carol", Groups: []string{"hr"}}},
		Password:   "demo",
		Clients:    []Client{{ID: "agent", Secret: "agent-secret", RedirectURIs: []string{"http://127.0.0.1/callback"}, ResourceClientID: "agent-at-as"}},
		Servers:    []Server{{Name: "demo", Resource: "http://127.0.0.1:1/mcp", AuthorizationServer: "http://127.0.0.1:2"}},
		PolicyFile: pol,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	return idp, srv, pol
}

// login runs the authorization-code + PKCE flow through the HTML form, the way
// a browser would, and returns the ID token.
func login(t *testing.T, srv *httptest.Server, user, password string) (string, int) {
	t.Helper()
	verifier := randomString(40)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"client_id": {"agent"}, "redirect_uri": {"http://127.0.0.1:5555/callback"}, "response_type": {"code"},
		"state": {"xyz"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}, "username": {user}, "password": {password}}
	page, err := hc.Get(srv.URL + "/authorize?" + form.Encode())
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("login page: %v %v", err, page)
	}
	page.Body.Close()
	resp, err := hc.PostForm(srv.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", resp.StatusCode
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "xyz" || loc.Query().Get("iss") != srv.URL {
		t.Fatalf("bad redirect %s", loc)
	}
	tok := postToken(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}})
	return tok["id_token"].(string), 200
}

func postToken(t *testing.T, srv *httptest.Server, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("agent", "agent-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("token response %s: %v", b, err)
	}
	out["_status"] = resp.StatusCode
	return out
}

func TestLoginAndExchange(t *testing.T) {
	idp, srv, pol := newTestIdP(t)
	if _, code := login(t, srv, "alice", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: got %d", code)
	}
	idt, _ := login(t, srv, "alice", "demo")
	exchange := func(idt, scope string) map[string]any {
		return postToken(t, srv, url.Values{"grant_type": {GrantTokenExchange}, "requested_token_type": {TokenTypeIDJAG},
			"subject_token_type": {TokenTypeIDToken}, "subject_token": {idt}, "audience": {"http://127.0.0.1:2"},
			"resource": {"http://127.0.0.1:1/mcp"}, "scope": {scope}})
	}
	out := exchange(idt, "mcp:tools mcp:deploy mcp:admin")
	if out["_status"] != 200 || out["issued_token_type"] != TokenTypeIDJAG || out["token_type"] != "N_A" || out["scope"] != "mcp:tools mcp:deploy" {
		t.Fatalf("exchange: %v", out)
	}
	claims, err := idp.verifyOwn(out["access_token"].(string))
	if err != nil || claims["client_id"] != "agent-at-as" || claims["aud"] != "http://127.0.0.1:2" || claims["sub"] != "alice" {
		t.Fatalf("ID-JAG claims %v %v", claims, err)
	}
	carol, _ := login(t, srv, "carol", "demo")
	if out := exchange(carol, ""); out["_status"] != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("carol must be refused: %v", out)
	}
	// Central revocation: the admin removes engineering; the next exchange fails.
	if err := os.WriteFile(pol, []byte(`{"grants":[{"server":"demo","users":["bob"],"scopes":["mcp:tools"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := exchange(idt, ""); out["error"] != "invalid_grant" {
		t.Fatalf("revoked user still gets an ID-JAG: %v", out)
	}
	if out := exchange("not-a-token", ""); out["error"] != "invalid_grant" {
		t.Fatalf("garbage subject token: %v", out)
	}
}
