package main

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/storetest"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// TestCodeKeyRotationFromConfig rotates the broker's code key the way
// docs/deployment.md says, with three replicas of the binary at three
// steps of the rotation behind one issuer, each configured by its file
// alone (code_key and previous_code_keys from the environment) and every
// store in a real Redis. A login started at the step-1 replica (old key
// sealing, new key known) has its IdP redirect answered by the step-2
// replica (new key sealing, old key known) and its consent decided at the
// step-1 replica again; its code, sealed with the old key, is redeemed at
// the step-2 replica. The step-3 replica (old key removed) refuses the old
// login cookie and an old code.
func TestCodeKeyRotationFromConfig(t *testing.T) {
	srv := redistest.Start(t)
	up := storetest.NewUpstream(t, "mcp-as", nil)
	dir := t.TempDir()
	lns := []net.Listener{listen(t), listen(t), listen(t)}
	issuer, resource := "http://"+lns[0].Addr().String(), "http://127.0.0.1:1/mcp"
	const redirect = "http://127.0.0.1/callback"
	file := func(current, previous string) string {
		doc := `issuer: ` + issuer + `
resources: [{id: "` + resource + `", scopes: [mcp:tools]}]
signing_keys: [{file: as-key.pem}]
clients:
  - {client_id: native, auth_methods: [none], grant_types: [authorization_code, refresh_token], redirect_uris: ["` + redirect + `"], scopes: [mcp:tools]}
broker:
  upstream: {issuer: "` + up.URL() + `", client_id: mcp-as, client_secret: "${UP_SECRET}"}
  access: [{group: eng, resource: "` + resource + `", scopes: [mcp:tools]}]
  code_key: ${` + current + `}
`
		if previous != "" {
			doc += `  previous_code_keys: ["${` + previous + `}"]
`
		}
		return doc + `stores: {kind: redis, options: {url: "` + srv.URL() + `"}}
`
	}
	writeFiles(t, dir, map[string]string{"as-key.pem": keyPEM(t),
		"step1.yaml": file("OLD_KEY", "NEW_KEY"), "step2.yaml": file("NEW_KEY", "OLD_KEY"), "step3.yaml": file("NEW_KEY", "")})
	t.Setenv("OLD_KEY", "BcEQ9oH811tIddeD3kAW3GrujvDd6+g7Tsfr4/AoHF4=")
	t.Setenv("NEW_KEY", "hQpkHQCcTNZJCEQZoae9wu4JJ7wDhXSUhDx326yc9OA=")
	t.Setenv("UP_SECRET", "up-secret")
	var step []string // base URL of the replica at step 1, 2, 3
	for i, ln := range lns {
		step = append(step, start(t, ln, "authserver", "-config", filepath.Join(dir, []string{"step1.yaml", "step2.yaml", "step3.yaml"}[i])))
	}
	jar, _ := cookiejar.New(nil) // one host (127.0.0.1): the cookie goes to every replica
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// at sends a request to the replica base instead of the issuer (the
	// load balancer's choice).
	at := func(base, method, target string, form url.Values) (int, string, string) {
		t.Helper()
		target = strings.Replace(target, issuer, base, 1)
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, resp.Header.Get("Location"), string(page)
	}
	verifier := strings.Repeat("w", 43)
	sum := sha256.Sum256([]byte(verifier))
	// toCallback starts a login at base and returns the IdP's redirect
	// back (to the issuer).
	toCallback := func(base string) string {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {"native"}, "redirect_uri": {redirect}, "resource": {resource},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "state": {"s"}}
		st, loc, _ := at(base, "GET", issuer+"/authorize?"+q.Encode(), nil)
		if st != http.StatusFound {
			t.Fatalf("authorize: %d", st)
		}
		st, loc, _ = at(base, "GET", loc, nil) // the upstream logs dave in at once
		if st != http.StatusFound || !strings.HasPrefix(loc, issuer+"/callback?") {
			t.Fatalf("upstream: %d", st)
		}
		return loc
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	redeem := func(base, code string) int {
		st, _, _ := at(base, "POST", issuer+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {"native"}})
		return st
	}

	// Login 1: authorize at step 1 (cookie sealed with the old key),
	// callback at step 2 (opens it with its previous key; seals the consent
	// form with the new key), consent at step 1 (opens the form with its
	// previous key; seals the code with the old key), token at step 2.
	st, _, page := at(step[1], "GET", toCallback(step[0]), nil)
	m := csrf.FindStringSubmatch(page)
	if st != 200 || m == nil {
		t.Fatalf("callback at step 2 of a login started at step 1: %d", st)
	}
	st, loc, _ := at(step[0], "POST", issuer+"/consent", url.Values{"csrf": {m[1]}, "decision": {"allow"}})
	u, _ := url.Parse(loc)
	if st != http.StatusSeeOther || u.Query().Get("code") == "" {
		t.Fatalf("consent at step 1: %d", st)
	}
	oldCode := u.Query().Get("code")
	if st := redeem(step[1], oldCode); st != 200 {
		t.Fatalf("old-key code at step 2: %d, want 200", st)
	}

	// Login 2: the consent is remembered, so the callback at step 1 seals
	// a code with the old key at once. Step 3 no longer has the old key.
	cb := toCallback(step[0])
	st, loc, _ = at(step[0], "GET", cb, nil)
	u, _ = url.Parse(loc)
	if st != http.StatusSeeOther || u.Query().Get("code") == "" {
		t.Fatalf("second login's callback: %d", st)
	}
	if st := redeem(step[2], u.Query().Get("code")); st != 400 {
		t.Fatalf("old-key code at step 3: %d, want 400", st)
	}
	// Login 3: a login cookie sealed with the old key (authorize at step 1)
	// is refused at step 3: the user starts again.
	if st, _, _ := at(step[2], "GET", toCallback(step[0]), nil); st == 200 || st == http.StatusSeeOther {
		t.Fatalf("old-key login cookie at step 3: %d, want refused", st)
	}
	// ... and a login started at step 3 (new key) finishes at step 2.
	if st, loc, _ := at(step[1], "GET", toCallback(step[2]), nil); st != http.StatusSeeOther || !strings.Contains(loc, "code=") {
		t.Fatalf("new-key login at step 2: %d", st)
	}
}
