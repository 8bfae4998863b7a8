package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeInfo: what `serve` prints for MCP hosts is true: every URL it
// names answers, the metadata it points to names the printed authorization
// server and supports the printed flow, and the client ID is registered.
func TestServeInfo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := quietStack(ctx, t)
	var out bytes.Buffer
	printServeInfo(&out, st)
	text := out.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if lines[len(lines)-1] != "ready" {
		t.Fatalf("last line %q, want ready", lines[len(lines)-1])
	}
	for _, want := range []string{"  MCP server            " + st.MCP + "\n", "client ID             " + publicClientID,
		"dave", "erin", demoPassword, "authorization code + PKCE (S256)"} {
		if !strings.Contains(text, want) {
			t.Errorf("serve output lacks %q:\n%s", want, text)
		}
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	getJSON := func(u string) map[string]any {
		t.Helper()
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&m) != nil {
			t.Fatalf("GET %s: %d, not JSON", u, resp.StatusCode)
		}
		return m
	}
	printed := regexp.MustCompile(`http://[^\s)]+/\.well-known/[^\s)]+`).FindAllString(text, -1)
	if len(printed) < 2 {
		t.Fatalf("no metadata URLs printed: %v", printed)
	}
	for _, u := range printed {
		m := getJSON(u)
		switch {
		case strings.Contains(u, "oauth-protected-resource"):
			if m["resource"] != st.MCP || !strings.Contains(text, "names the authorization server "+st.ASIssuer) {
				t.Errorf("%s: %v", u, m)
			}
			if as, _ := m["authorization_servers"].([]any); len(as) != 1 || as[0] != st.ASIssuer {
				t.Errorf("%s names %v, serve printed %s", u, m["authorization_servers"], st.ASIssuer)
			}
		case strings.Contains(u, "oauth-authorization-server"):
			if m["issuer"] != st.ASIssuer || m["authorization_endpoint"] == nil ||
				!strings.Contains(toJSON(m["code_challenge_methods_supported"]), `"S256"`) ||
				!strings.Contains(toJSON(m["token_endpoint_auth_methods_supported"]), `"none"`) ||
				m["registration_endpoint"] != st.ASIssuer+"/register" || !strings.Contains(text, "at "+st.ASIssuer+"/register\n") ||
				m["client_id_metadata_document_supported"] != true || !strings.Contains(text, "Client ID Metadata") {
				t.Errorf("%s: %v", u, m)
			}
		}
	}
	// The printed client ID is a registered public client: an authorization
	// request with it reaches the IdP's login page.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(st.ASIssuer + "/authorize?response_type=code&client_id=" + publicClientID +
		"&redirect_uri=http://127.0.0.1:9/callback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, st.IdPIssuer+"/authorize?") {
		t.Fatalf("authorize with the printed client ID: %d %s", resp.StatusCode, loc)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
