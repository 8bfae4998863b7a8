package authserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// The authorization server is unready while a trusted IdP's key set cannot
// be fetched, and ready once it can.
func TestServerReady(t *testing.T) {
	t.Parallel()
	idpKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var up atomic.Bool
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		x, y := idpKey.PublicKey.X.FillBytes(make([]byte, 32)), idpKey.PublicKey.Y.FillBytes(make([]byte, 32))
		_, _ = w.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig","x":"` + b64url(x) + `","y":"` + b64url(y) + `"}]}`))
	}))
	t.Cleanup(jwks.Close)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	as, err := authserver.New(authserver.Config{
		Issuer:      "https://mcp.example.com/oauth",
		Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp"}},
		SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "as-1"}},
		TrustedIdPs: []authserver.TrustedIdP{{Issuer: "https://idp.example.com", JWKSURL: jwks.URL + "/jwks"}},
		HTTPClient:  jwks.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var _ core.ReadinessChecker = as
	err = as.Ready(context.Background())
	if !errors.Is(err, authserver.ErrNotReady) || !strings.Contains(err.Error(), "https://idp.example.com") {
		t.Fatalf("Ready with the IdP key set down = %v", err)
	}
	w := httptest.NewRecorder()
	core.ReadyHandler(as, 0).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("probe: %d", w.Code)
	}

	// A second server, created while the IdP is up, is ready (the first
	// one waits out its fetch cooldown).
	up.Store(true)
	as2, err := authserver.New(authserver.Config{
		Issuer:      "https://mcp.example.com/oauth",
		Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp"}},
		SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "as-1"}},
		TrustedIdPs: []authserver.TrustedIdP{{Issuer: "https://idp.example.com", JWKSURL: jwks.URL + "/jwks"}},
		HTTPClient:  jwks.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := as2.Ready(context.Background()); err != nil {
		t.Fatalf("Ready with the IdP up = %v", err)
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
