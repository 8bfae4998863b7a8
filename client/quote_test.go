package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestTokenResponseTextBounded: a token endpoint's value in an error text
// (which the leg's Warn line also carries) is quoted with clip.Quote at
// core.MaxLogField, so that neither its length nor control characters
// (one byte each, four once quoted) make the text longer. %q of the raw
// value made a 4 KiB token_type a 16 KiB text.
func TestTokenResponseTextBounded(t *testing.T) {
	t.Parallel()
	ctl := strings.Repeat("\u0001", 4096)
	const bound = 2*core.MaxLogField + 128 // the text around a quoted value, a loopback URL
	respond := func(status int, body any) func(recorded) (int, any) {
		return func(recorded) (int, any) { return status, body }
	}
	tests := []struct {
		name    string
		idp, as func(recorded) (int, any)
	}{
		{name: "exchange issued_token_type", as: bearerOK(60),
			idp: respond(200, map[string]any{"access_token": "x", "issued_token_type": ctl, "token_type": "N_A"})},
		{name: "exchange token_type", as: bearerOK(60),
			idp: respond(200, map[string]any{"access_token": "x", "issued_token_type": TokenTypeIDJAG, "token_type": ctl})},
		{name: "jwt-bearer token_type", idp: idjagOK("N_A"),
			as: respond(200, map[string]any{"access_token": "x", "token_type": ctl})},
		{name: "jwt-bearer expires_in", idp: idjagOK("N_A"),
			as: respond(200, map[string]any{"access_token": "x", "token_type": "Bearer", "expires_in": json.Number("1" + strings.Repeat("0", 8192))})},
		{name: "jwt-bearer error code", idp: idjagOK("N_A"),
			as: respond(400, map[string]any{"error": ctl})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEMA(t, tc.idp, tc.as, nil)
			_, err := e.a.HTTPClient(nil).Get(e.rs.url())
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(err.Error()); n > bound {
				t.Errorf("error text of %d bytes, want at most %d: %.300s", n, bound, err)
			}
		})
	}

	t.Run("content type", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/"+strings.Repeat("x", 16<<10))
			_, _ = w.Write([]byte("{}"))
		}))
		t.Cleanup(srv.Close)
		_, err := postForm(context.Background(), srv.Client(), srv.URL, "token", url.Values{}, DefaultMaxResponseBytes,
			func(*http.Request, url.Values) error { return nil })
		if err == nil {
			t.Fatal("no error")
		}
		if n := len(err.Error()); n > bound {
			t.Errorf("error text of %d bytes, want at most %d: %.300s", n, bound, err)
		}
	})
}

// TestOAuthErrorDescriptionText: an error_description outside RFC 6749
// §5.2's printable ASCII (a line break that forges a log line, other
// control characters) is quoted into the error text; a valid one is
// appended as sent.
func TestOAuthErrorDescriptionText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ desc, want string }{
		{"denied by policy", `client: token endpoint error "invalid_grant" (HTTP 400): denied by policy`},
		{"denied\n[ok] granted", `client: token endpoint error "invalid_grant" (HTTP 400): "denied\n[ok] granted"`},
		{"caf\u00e9\x7f", `client: token endpoint error "invalid_grant" (HTTP 400): "café\x7f"`},
	} {
		e := &OAuthError{Code: "invalid_grant", Description: tc.desc, Status: 400, Endpoint: "token"}
		if got := e.Error(); got != tc.want {
			t.Errorf("Error() = %s, want %s", got, tc.want)
		}
	}
}

// TestIssuerBindingTextBounded: a refusal to send credentials to another
// issuer quotes both issuers with clip.Quote at core.MaxLogField. The
// issuer comes from the metadata the MCP server names, up to the response
// limit: %q made a 16 KiB issuer of quotes a 32 KiB error text.
func TestIssuerBindingTextBounded(t *testing.T) {
	t.Parallel()
	long := "https://as.example/" + strings.Repeat(`"`, 16<<10)
	for _, tc := range []struct{ bound, other string }{
		{"https://as.example", long},
		{long, "https://as.example"},
	} {
		var b issuerBinding
		if err := b.bind(tc.bound); err != nil {
			t.Fatal(err)
		}
		err := b.bind(tc.other)
		if !errors.Is(err, ErrIssuerBinding) {
			t.Fatalf("err = %v, want ErrIssuerBinding", err)
		}
		if n, bound := len(err.Error()), 2*core.MaxLogField+128; n > bound {
			t.Errorf("error text of %d bytes, want at most %d: %.300s", n, bound, err)
		}
	}
}

// TestUnsupportedTextBounded: a refusal because the authorization server
// does not list an auth method, an assertion algorithm or a grant names
// its issuer with clip.Quote at core.MaxLogField. The issuer comes from
// the metadata the MCP server names, up to the response limit: %s put it
// in whole.
func TestUnsupportedTextBounded(t *testing.T) {
	t.Parallel()
	long := "https://as.example/" + strings.Repeat("a", 16<<10)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	authenticate := func(c Credentials, meta *AuthServerMetadata) error {
		req := httptest.NewRequest(http.MethodPost, "https://as.example/token", nil)
		_, err := c.authenticate(req, url.Values{}, long, meta, time.Now())
		return err
	}
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"auth method", func() error {
			return authenticate(basicCreds(), &AuthServerMetadata{TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"}})
		}},
		{"assertion algorithm", func() error {
			return authenticate(Credentials{ClientID: "svc", Key: key}, &AuthServerMetadata{TokenEndpointAuthSigningAlgsSupported: []string{"RS256"}})
		}},
		{"grant", func() error {
			g := newGrantCore(nil, DefaultMaxResponseBytes, time.Now, nil, "")
			return g.start(&TokenRequest{AuthServer: &AuthServerMetadata{Issuer: long, GrantTypesSupported: []string{"authorization_code"}}, Resource: "r"},
				"client_credentials", "client_credentials")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.err()
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %.300v, want ErrUnsupported", err)
			}
			if n, bound := len(err.Error()), core.MaxLogField+128; n > bound {
				t.Errorf("error text of %d bytes, want at most %d: %.300s", n, bound, err)
			}
		})
	}
}

// TestStepUpRefusalTextBounded: a 403 that asks for no scope beyond the
// token's names the scopes held, which can be the PRM's scopes_supported
// (as long as the metadata allows): %q of the list put them in whole.
func TestStepUpRefusalTextBounded(t *testing.T) {
	t.Parallel()
	scopes := make([]string, 1000)
	for i := range scopes {
		scopes[i] = fmt.Sprintf("scope-%04d-%s", i, strings.Repeat("x", 16))
	}
	as := newFakeAS(t, bearerOK(60))
	rs := newFakeRS(t, as.srv.URL)
	a := mustNew(t, Config{ServerURL: rs.url(), Grant: mustCC(t, basicCreds()), Scopes: scopes})
	ctx := context.Background()
	if err := a.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="` + scopes[0] + `"`}}
	err = a.HandleInsufficientScope(ctx, h, tok.AccessToken)
	if !errors.Is(err, ErrInsufficientScope) {
		t.Fatalf("err = %.300v, want ErrInsufficientScope", err)
	}
	if n, bound := len(err.Error()), core.MaxLogField+256; n > bound {
		t.Errorf("error text of %d bytes, want at most %d: %.300s", n, bound, err)
	}
}
