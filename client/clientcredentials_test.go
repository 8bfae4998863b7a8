package client

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	jose4 "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

func ccAuthorize(t *testing.T, as *fakeAS, creds Credentials, now func() time.Time) error {
	t.Helper()
	rs := newFakeRS(t, as.srv.URL)
	g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: creds, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return mustNew(t, Config{ServerURL: rs.url(), Grant: g, Scopes: []string{"mcp:tools"}}).Authorize(context.Background())
}

func TestClientSecretPost(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t, bearerOK(3600))
	if err := ccAuthorize(t, as, Credentials{ClientID: "c1", ClientSecret: "s e/c", Method: AuthClientSecretPost}, nil); err != nil {
		t.Fatal(err)
	}
	r := as.rec.all()[0]
	if r.Form.Get("client_id") != "c1" || r.Form.Get("client_secret") != "s e/c" || r.Header.Get("Authorization") != "" ||
		r.Form.Get("scope") != "mcp:tools" {
		t.Errorf("form %v header %q", r.Form, r.Header.Get("Authorization"))
	}
}

func TestClientSecretBasicEncoding(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t, bearerOK(3600))
	if err := ccAuthorize(t, as, Credentials{ClientID: "a:b", ClientSecret: "p%ss w"}, nil); err != nil {
		t.Fatal(err)
	}
	user, pass, _ := (&http.Request{Header: as.rec.all()[0].Header}).BasicAuth()
	// RFC 6749 §2.3.1: form-urlencoded before base64.
	if user != "a%3Ab" || pass != "p%25ss+w" {
		t.Errorf("basic = %q:%q", user, pass)
	}
}

func TestPrivateKeyJWTClaims(t *testing.T) {
	t.Parallel()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name    string
		key     crypto.Signer
		alg     string
		wantAlg jose4.SignatureAlgorithm
		typ     string
		life    time.Duration
	}{
		{"ES256 default", ecKey, "", jose4.ES256, "", 0},
		{"RS256 default", rsaKey, "", jose4.RS256, "", 0},
		{"PS256", rsaKey, "PS256", jose4.PS256, "client-authentication+jwt", 2 * time.Minute},
		{"EdDSA", edKey, "", jose4.EdDSA, "", MaxAssertionLifetime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t, bearerOK(3600))
			as.meta["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
			creds := Credentials{ClientID: "svc", Key: tc.key, Algorithm: tc.alg, KeyID: "k1", AssertionType: tc.typ, AssertionLifetime: tc.life}
			for range 2 {
				if err := ccAuthorize(t, as, creds, func() time.Time { return now }); err != nil {
					t.Fatal(err)
				}
			}
			jtis := map[string]bool{}
			for _, r := range as.rec.all() {
				if r.Form.Get("client_assertion_type") != clientAssertionType || r.Form.Has("client_id") || r.Header.Get("Authorization") != "" {
					t.Errorf("form %v", r.Form)
				}
				tok, err := josejwt.ParseSigned(r.Form.Get("client_assertion"), []jose4.SignatureAlgorithm{tc.wantAlg})
				if err != nil {
					t.Fatal(err)
				}
				h := tok.Headers[0]
				typ, _ := h.ExtraHeaders[jose4.HeaderType].(string)
				if h.KeyID != "k1" || typ != tc.typ {
					t.Errorf("header kid %q typ %q, want k1 %q", h.KeyID, typ, tc.typ)
				}
				var raw map[string]any
				if err := tok.Claims(tc.key.Public(), &raw); err != nil {
					t.Fatalf("signature: %v", err)
				}
				aud, isString := raw["aud"].(string)
				if raw["iss"] != "svc" || raw["sub"] != "svc" || !isString || aud != as.srv.URL {
					t.Errorf("claims %v", raw)
				}
				iat, exp := int64(raw["iat"].(float64)), int64(raw["exp"].(float64))
				life := tc.life
				if life == 0 {
					life = DefaultAssertionLifetime
				}
				if iat != now.Unix() || exp-iat != int64(life/time.Second) || exp-iat > 300 {
					t.Errorf("iat %d exp %d", iat, exp)
				}
				jti, _ := raw["jti"].(string)
				if len(jti) < 16 || jtis[jti] {
					t.Errorf("jti %q not unique", jti)
				}
				jtis[jti] = true
				if len(raw) != 6 {
					t.Errorf("unexpected claims: %v", raw)
				}
			}
		})
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	t.Parallel()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name      string
		token     func(recorded) (int, any)
		meta      map[string]any
		creds     Credentials
		wantErr   error
		wantOAuth string
		wantCalls int
	}{
		{
			name: "invalid_client",
			token: func(recorded) (int, any) {
				return 401, map[string]string{"error": "invalid_client", "error_description": "bad secret"}
			},
			creds: basicCreds(), wantOAuth: "invalid_client", wantCalls: 1,
		},
		{
			name:  "invalid_grant",
			token: func(recorded) (int, any) { return 400, map[string]string{"error": "invalid_grant"} },
			creds: basicCreds(), wantOAuth: "invalid_grant", wantCalls: 1,
		},
		{
			name:  "500 without OAuth body",
			token: func(recorded) (int, any) { return 500, "oops" },
			creds: basicCreds(), wantErr: ErrTokenResponse, wantCalls: 1,
		},
		{
			name:  "token_type DPoP",
			token: func(recorded) (int, any) { return 200, map[string]any{"access_token": "x", "token_type": "DPoP"} },
			creds: basicCreds(), wantErr: ErrTokenResponse, wantCalls: 1,
		},
		{
			name:  "no access_token",
			token: func(recorded) (int, any) { return 200, map[string]any{"token_type": "Bearer"} },
			creds: basicCreds(), wantErr: ErrTokenResponse, wantCalls: 1,
		},
		{
			name: "negative expires_in",
			token: func(recorded) (int, any) {
				return 200, map[string]any{"access_token": "x", "token_type": "Bearer", "expires_in": -1}
			},
			creds: basicCreds(), wantErr: ErrTokenResponse, wantCalls: 1,
		},
		{
			name: "case-variant keys",
			token: func(recorded) (int, any) {
				return 200, jsonRaw(`{"access_token":"x","Access_Token":"y","token_type":"Bearer"}`)
			},
			creds: basicCreds(), wantErr: ErrTokenResponse, wantCalls: 1,
		},
		{
			name:  "method not advertised",
			token: bearerOK(60), meta: map[string]any{"token_endpoint_auth_methods_supported": []string{"private_key_jwt"}},
			creds: basicCreds(), wantErr: ErrUnsupported,
		},
		{
			name:  "grant not advertised",
			token: bearerOK(60), meta: map[string]any{"grant_types_supported": []string{"authorization_code"}},
			creds: basicCreds(), wantErr: ErrUnsupported,
		},
		{
			name:  "alg not advertised",
			token: bearerOK(60), meta: map[string]any{"token_endpoint_auth_signing_alg_values_supported": []string{"RS256"}},
			creds: Credentials{ClientID: "svc", Key: ecKey}, wantErr: ErrUnsupported,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t, tc.token)
			for k, v := range tc.meta {
				as.meta[k] = v
			}
			err := ccAuthorize(t, as, tc.creds, nil)
			if tc.wantOAuth != "" {
				var oe *OAuthError
				if !errors.As(err, &oe) || oe.Code != tc.wantOAuth || oe.Endpoint != "token" {
					t.Fatalf("err = %v, want OAuthError %s", err, tc.wantOAuth)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if n := len(as.rec.all()); n != tc.wantCalls {
				t.Errorf("token requests = %d, want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestCredentialsValidation(t *testing.T) {
	t.Parallel()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bad := []Credentials{
		{},
		{ClientID: "x"}, // none is not allowed for client credentials
		{ClientID: "x", Method: AuthClientSecretPost},
		{ClientID: "x", Method: AuthPrivateKeyJWT},
		{ClientID: "x", Key: ecKey, Algorithm: "HS256"},
		{ClientID: "x", Key: ecKey, Algorithm: "none"},
		{ClientID: "x", Key: ecKey, AssertionLifetime: time.Hour},
		{ClientID: "x", Method: "tls_client_auth"},
		{ClientID: "x", Key: ecKey, Algorithm: "RS256"},
		{ClientID: "x", Key: ecKey, Algorithm: "ES384"},
	}
	for i, c := range bad {
		if _, err := NewClientCredentials(ClientCredentialsConfig{Credentials: c}); !errors.Is(err, ErrConfig) {
			t.Errorf("%d: err = %v", i, err)
		}
	}
}

func TestTokenResponseScopeAndExpiry(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	var tr tokenResponse
	if err := json.Unmarshal([]byte(`{"access_token":"a","token_type":"bearer","expires_in":60,"scope":"x  y x"}`), &tr); err != nil {
		t.Fatal(err)
	}
	tok, err := tr.toToken("token", []string{"req"}, now)
	if err != nil || !tok.Expiry.Equal(now.Add(time.Minute)) || len(tok.Scopes) != 2 || tok.TokenType != "Bearer" {
		t.Fatalf("tok %+v err %v", tok, err)
	}
}
