package storetest

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// UpstreamUser is who an [Upstream] logs in.
type UpstreamUser struct {
	Subject string
	Groups  []string
	Email   string
}

// Upstream is a loopback OpenID Connect provider for the broker's flows:
// discovery, an authorize endpoint that logs the configured user in at
// once, a token endpoint that checks PKCE S256 and the client id, and its
// JWK Set. Codes are single use. The knobs tamper with its answers. It
// stops with the test.
type Upstream struct {
	// WrongNonce makes ID tokens carry another nonce than requested.
	WrongNonce atomic.Bool
	// Down makes every endpoint answer 503.
	Down atomic.Bool
	// DuplicateGroups makes ID tokens carry the "groups" claim twice, the
	// second time with the group "admins" (a lenient decoder keeps the last).
	DuplicateGroups atomic.Bool

	srv      *httptest.Server
	key      crypto.Signer
	clientID string
	now      func() time.Time
	mu       sync.Mutex
	user     UpstreamUser
	codes    map[string]url.Values // code → authorize params
	seq      atomic.Int64
}

// NewUpstream starts an Upstream that knows the client clientID and logs
// in dave (groups eng, dave@example.com). now is its clock (nil:
// time.Now).
func NewUpstream(t testing.TB, clientID string, now func() time.Time) *Upstream {
	t.Helper()
	key, err := jose.GenerateKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if now == nil {
		now = time.Now
	}
	p := &Upstream{key: key, clientID: clientID, codes: map[string]url.Values{}, now: now,
		user: UpstreamUser{Subject: "dave", Groups: []string{"eng"}, Email: "dave@example.com"}}
	jwk, err := jose.PublicJWK(key.Public(), "up-1", jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JWKS{Keys: []jose.JWK{jwk}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := p.srv.URL
		writeJSON(w, map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(set) })
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" || q.Get("client_id") != p.clientID {
			http.Error(w, "bad upstream request", http.StatusBadRequest)
			return
		}
		code := base64.RawURLEncoding.EncodeToString([]byte("code-" + strconv.FormatInt(p.seq.Add(1), 10) + "-" + time.Now().String()))
		p.mu.Lock()
		p.codes[code] = q
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		q := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		u := p.user
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if q == nil || base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"error": "invalid_grant"})
			return
		}
		nonce := q.Get("nonce")
		if p.WrongNonce.Load() {
			nonce = "other"
		}
		now := p.now().Unix()
		b, _ := json.Marshal(map[string]any{
			"iss": p.srv.URL, "sub": u.Subject, "aud": p.clientID, "iat": now, "exp": now + 300, "nonce": nonce,
			"groups": u.Groups, "email": u.Email, "tenant": "acme", "acr": "mfa", "amr": []string{"pwd", "otp"}, "auth_time": now - 5,
		})
		if p.DuplicateGroups.Load() {
			b = append(b[:len(b)-1], `,"groups":["admins"]}`...)
		}
		tok, err := jose.Sign(p.key, jose.Header{Alg: jose.ES256, Kid: "up-1", Typ: "JWT"}, b)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{"access_token": "up-at", "token_type": "Bearer", "id_token": tok, "expires_in": 300})
	})
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the provider's issuer.
func (p *Upstream) URL() string { return p.srv.URL }

// SetUser changes who logs in next.
func (p *Upstream) SetUser(u UpstreamUser) { p.mu.Lock(); p.user = u; p.mu.Unlock() }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
