package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose4 "github.com/go-jose/go-jose/v4"
)

// fakeOP is a minimal OpenID provider for OIDCLogin.
type fakeOP struct {
	srv        *httptest.Server
	key        *ecdsa.PrivateKey
	mu         sync.Mutex
	challenge  string
	nonce      string
	authorizes int
	// knobs
	authzError string // error param on the redirect
	authzDesc  string // error_description param on the redirect
	wrongIss   bool   // iss param on the redirect differs
	wrongNonce bool
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	op := &fakeOP{}
	op.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	op.srv = httptest.NewServer(http.HandlerFunc(op.serve))
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) serve(w http.ResponseWriter, r *http.Request) {
	iss := op.srv.URL
	switch r.URL.Path {
	case wellKnownOIDC:
		writeJSON(w, 200, map[string]any{"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "id_token_signing_alg_values_supported": []string{"ES256"}, "response_types_supported": []string{"code"}})
	case "/jwks":
		writeJSON(w, 200, jose4.JSONWebKeySet{Keys: []jose4.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	case "/authorize":
		q := r.URL.Query()
		op.mu.Lock()
		op.authorizes++
		op.challenge, op.nonce = q.Get("code_challenge"), q.Get("nonce")
		op.mu.Unlock()
		if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("client_id") != "app" {
			http.Error(w, "bad request", 400)
			return
		}
		red, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"state": {q.Get("state")}, "iss": {iss}}
		if op.wrongIss {
			v.Set("iss", iss+"/")
		}
		if op.authzError != "" {
			v.Set("error", op.authzError)
			if op.authzDesc != "" {
				v.Set("error_description", op.authzDesc)
			}
		} else {
			v.Set("code", "code-1")
		}
		red.RawQuery = v.Encode()
		http.Redirect(w, r, red.String(), http.StatusFound)
	case "/token":
		_ = r.ParseForm()
		op.mu.Lock()
		ch, nonce := op.challenge, op.nonce
		op.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.PostForm.Get("code") != "code-1" || base64.RawURLEncoding.EncodeToString(sum[:]) != ch {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		if op.wrongNonce {
			nonce = "other"
		}
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"iss": iss, "sub": "alice", "aud": "app", "iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "nonce": nonce})
		signer, _ := jose4.NewSigner(jose4.SigningKey{Algorithm: jose4.ES256, Key: op.key},
			(&jose4.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
		jws, _ := signer.Sign(claims)
		idt, _ := jws.CompactSerialize()
		writeJSON(w, 200, map[string]any{"access_token": "op-at", "token_type": "Bearer", "id_token": idt, "expires_in": 3600})
	default:
		http.NotFound(w, r)
	}
}

// browser follows the authorization redirect like a user agent would.
func browser(t *testing.T) func(ctx context.Context, u string) error {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(ctx context.Context, u string) error {
		go func() {
			resp, err := hc.Get(u)
			if err != nil {
				return
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); loc != "" {
				if r2, err := hc.Get(loc); err == nil {
					r2.Body.Close()
				}
			}
		}()
		return nil
	}
}

func TestOIDCLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		knob    func(*fakeOP)
		wantErr error
		oauth   string
	}{
		{name: "success"},
		{name: "authorization error", knob: func(op *fakeOP) { op.authzError = "access_denied" }, oauth: "access_denied"},
		// The redirect's error strings end up in logs, as a token
		// endpoint's do: they are cut to the bound of a log field.
		{name: "long error description", knob: func(op *fakeOP) {
			op.authzError, op.authzDesc = "access_denied", strings.Repeat("d", 16<<10)
		}, oauth: "access_denied"},
		{name: "iss mismatch", knob: func(op *fakeOP) { op.wrongIss = true }, wantErr: ErrIssuerMismatch},
		{name: "nonce mismatch", knob: func(op *fakeOP) { op.wrongNonce = true }, wantErr: ErrIDToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			if tc.knob != nil {
				tc.knob(op)
			}
			l, err := NewOIDCLogin(OIDCLoginConfig{Issuer: op.srv.URL, ClientID: "app", OpenBrowser: browser(t), LoginTimeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			idt, err := l.IDToken(ctx)
			switch {
			case tc.oauth != "":
				var oe *OAuthError
				if !errors.As(err, &oe) || oe.Code != tc.oauth {
					t.Fatalf("err = %v", err)
				}
				if len(oe.Description) > len(bounded(strings.Repeat("d", 16<<10))) {
					t.Fatalf("error_description of %d bytes kept", len(oe.Description))
				}
				return
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			idt2, err := l.IDToken(ctx)
			if err != nil || idt2 != idt || idt == "" {
				t.Fatalf("cached token differs: %v", err)
			}
			op.mu.Lock()
			n := op.authorizes
			op.mu.Unlock()
			if n != 1 {
				t.Errorf("logins = %d, want 1", n)
			}
		})
	}
}

func TestOIDCLoginConfig(t *testing.T) {
	t.Parallel()
	open := func(context.Context, string) error { return nil }
	for _, c := range []OIDCLoginConfig{
		{ClientID: "a", OpenBrowser: open},
		{Issuer: "https://idp.example", OpenBrowser: open},
		{Issuer: "https://idp.example", ClientID: "a"},
		{Issuer: "https://idp.example", ClientID: "a", OpenBrowser: open, ListenAddr: "0.0.0.0:0"},
		{Issuer: "http://idp.example", ClientID: "a", OpenBrowser: open},
	} {
		if _, err := NewOIDCLogin(c); !errors.Is(err, ErrConfig) && !errors.Is(err, ErrInsecureURL) {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
}

// TestOIDCLoginCallbackLimits: the loopback redirect server bounds what a
// local peer can send it while a login waits. A redirect with oversized
// headers never reaches the handler (431), so it cannot complete the login
// with its code; the real redirect that follows does.
func TestOIDCLoginCallbackLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		header     int // bytes of an extra header on the hostile redirect
		wantStatus int
	}{
		{"oversized headers", 64 << 10, http.StatusRequestHeaderFieldsTooLarge},
		{"headers far over the bound", 512 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			real := browser(t)
			status := make(chan int, 1)
			open := func(ctx context.Context, u string) error {
				au, err := url.Parse(u)
				if err != nil {
					return err
				}
				q := au.Query()
				cb := q.Get("redirect_uri") + "?code=hostile&state=" + url.QueryEscape(q.Get("state"))
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cb, nil)
				req.Header.Set("X-Pad", strings.Repeat("a", tc.header))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					status <- 0
				} else {
					resp.Body.Close()
					status <- resp.StatusCode
				}
				return real(ctx, u)
			}
			l, err := NewOIDCLogin(OIDCLoginConfig{Issuer: op.srv.URL, ClientID: "app", OpenBrowser: open, LoginTimeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.IDToken(context.Background()); err != nil {
				t.Fatalf("login failed (the hostile redirect reached the handler?): %v", err)
			}
			if got := <-status; got != tc.wantStatus {
				t.Fatalf("hostile redirect: status %d, want %d", got, tc.wantStatus)
			}
		})
	}
}

// TestCallbackServerLimits: every timeout of the redirect server is set.
func TestCallbackServerLimits(t *testing.T) {
	t.Parallel()
	s := callbackServer(http.NotFoundHandler())
	for _, tc := range []struct {
		name string
		got  time.Duration
	}{
		{"ReadHeaderTimeout", s.ReadHeaderTimeout},
		{"ReadTimeout", s.ReadTimeout},
		{"WriteTimeout", s.WriteTimeout},
		{"IdleTimeout", s.IdleTimeout},
	} {
		if tc.got <= 0 || tc.got > time.Minute {
			t.Errorf("%s = %v, want in (0, 1m]", tc.name, tc.got)
		}
	}
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes = %d, want in (0, 64 KiB]", s.MaxHeaderBytes)
	}
}
