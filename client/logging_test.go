package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	var buf testkit.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()

	// Client credentials with a secret and with private_key_jwt, including a failure.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, creds := range []Credentials{
		{ClientID: "cc-client", ClientSecret: "TOPSECRET-1"},
		{ClientID: "jwt-client", Key: key},
	} {
		as := newFakeAS(t, bearerOK(60))
		rs := newFakeRS(t, as.srv.URL)
		g, _ := NewClientCredentials(ClientCredentialsConfig{Credentials: creds, Logger: log})
		if err := mustNew(t, Config{ServerURL: rs.url(), Grant: g, Logger: log}).Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		for _, r := range as.rec.all() {
			if a := r.Form.Get("client_assertion"); a != "" && strings.Contains(buf.String(), a) {
				t.Error("client assertion logged")
			}
		}
	}
	// EMA, success and failure at the AS.
	for _, asTok := range []func(recorded) (int, any){bearerOK(60), func(recorded) (int, any) { return 400, map[string]string{"error": "invalid_grant"} }} {
		e := newEMA(t, idjagOK("N_A"), asTok, func(c *EnterpriseManagedConfig) {
			c.Logger = log
			c.IDTokens = StaticIDToken("ID-TOKEN-SECRET")
			c.Credentials.ClientSecret = "TOPSECRET-2"
		})
		_ = e.a.Authorize(ctx)
	}
	out := buf.String()
	for _, secret := range []string{"TOPSECRET", "ID-TOKEN-SECRET", "idjag-", "at-1", "client_assertion"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"client_id=cc-client", "client_id=jwt-client", "jti=", "iss="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestConcurrentRequestsShareOneToken(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t, bearerOK(3600))
	rs := newFakeRS(t, as.srv.URL)
	a := mustNew(t, Config{ServerURL: rs.url(), Grant: mustCC(t, basicCreds())})
	hc := a.HTTPClient(nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get(rs.url())
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if n := len(as.rec.all()); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

// Every token request leg logs a rejected response once at WARN, with the
// leg's identifiers and the reason, and never the token it was handed.
func TestRejectedResponseLoggedWithoutToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name           string
		idp, as        func(recorded) (int, any)
		want, notToken string
	}{
		{"exchange token_type", idjagOK("Bearer"), bearerOK(60), "token exchange failed", "idjag-1"},
		{"jwt-bearer token_type", idjagOK("N_A"), func(recorded) (int, any) {
			return 200, map[string]any{"access_token": "at-MAC-1", "token_type": "MAC"}
		}, "jwt-bearer grant failed", "at-MAC-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf testkit.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			e := newEMA(t, tc.idp, tc.as, func(c *EnterpriseManagedConfig) { c.Logger = log })
			if err := e.a.Authorize(ctx); !errors.Is(err, ErrTokenResponse) {
				t.Fatalf("Authorize = %v, want ErrTokenResponse", err)
			}
			out := buf.String()
			if n := strings.Count(out, tc.want); n != 1 || !strings.Contains(out, "level=WARN") {
				t.Errorf("%q logged %d times at WARN:\n%s", tc.want, n, out)
			}
			if strings.Contains(out, tc.notToken) {
				t.Errorf("log contains the token %q:\n%s", tc.notToken, out)
			}
		})
	}
}

// TestLogFieldsBounded: the issuer an MCP server's metadata names is in
// the Authorizer's and the grant's log lines (discovery, token request,
// step-up); it went in whole, as long as the metadata allows (a 16 KiB
// issuer made lines of 16 KiB). Each value is now cut at
// core.MaxLogField, as the other values the client logs.
func TestLogFieldsBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 16<<10)
	var buf testkit.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var asURL string
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, wellKnownOAuth+"/"):
			writeJSON(w, 200, map[string]any{"issuer": asURL + "/" + long, "token_endpoint": asURL + "/token"})
		case r.URL.Path == "/token":
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			writeJSON(w, 200, map[string]any{"access_token": "x", "token_type": "Bearer", "expires_in": 60, "scope": r.Form.Get("scope")})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(as.Close)
	asURL = as.URL
	rs := newFakeRS(t, as.URL+"/"+long)
	rs.authorize = func(tok string, _ *http.Request) (int, string) {
		if tok == "x" {
			return http.StatusForbidden, `Bearer error="insufficient_scope", scope="b"`
		}
		return 0, ""
	}
	g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: basicCreds(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	a := mustNew(t, Config{ServerURL: rs.url(), Grant: g, Logger: log, Scopes: []string{"a"}})
	if err := a.Authorize(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _ = a.HTTPClient(nil).Get(rs.url()) // the 403 asks for scope b: a step-up
	out := buf.String()
	if !strings.Contains(out, "step-up") {
		t.Fatalf("no step-up logged:\n%.2000s", out)
	}
	testkit.LinesWithin(t, out, 4*core.MaxLogField+512)
}
