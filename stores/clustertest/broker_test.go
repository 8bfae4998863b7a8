package clustertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/storetest"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

const (
	upClient    = "mcp-as"
	appRedirect = "http://127.0.0.1/callback"
)

// brokerCluster is 3 AS replicas with the SSO broker and dynamic
// registration behind a round-robin proxy, sharing one CodeKey and signing
// key and keeping every piece of shared state in one Redis: replay and
// limits (GrantStore), registered clients (ClientStore), consents
// (ConsentStore) and refresh families (RefreshStore). Logins in progress
// are in the browser's sealed cookie. The upstream IdP logs dave in.
type brokerCluster struct {
	asURL   string
	up      *storetest.Upstream
	servers []*authserver.Server
}

func startBrokerCluster(t *testing.T, rs *redistest.Server) *brokerCluster {
	t.Helper()
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	codeKey := make([]byte, 32)
	_, _ = rand.Read(codeKey)
	bc := &brokerCluster{up: storetest.NewUpstream(t, upClient, nil)}
	asLn := testkit.Listen(t)
	bc.asURL = "http://" + asLn.Addr().String()
	var backends []string
	for range replicas {
		o, err := redisstore.ClientOptions(rs.URL())
		if err != nil {
			t.Fatal(err)
		}
		rc := redis.NewClient(o)
		t.Cleanup(func() { _ = rc.Close() })
		cfg := redisstore.Config{Client: rc}
		// The default quarantine: authserver.New refuses one shorter than
		// the broker's longest replay mark; TestBrokerClusterRedisDown
		// ends it early (endQuarantine).
		gs, err := redisstore.NewGrantStore(ctx, redisstore.ReplayConfig{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		clients, err := redisstore.NewClientStore(redisstore.ClientConfig{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		consents, err := redisstore.NewConsentStore(redisstore.ConsentConfig{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		refresh, err := redisstore.NewRefreshStore(redisstore.RefreshConfig{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		as, err := authserver.New(authserver.Config{
			Issuer:      bc.asURL,
			Resources:   []authserver.Resource{{ID: resource, Scopes: []string{"mcp:tools"}}},
			SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "as-1"}},
			ReplayStore: gs, RateLimiter: gs,
			Broker: &authserver.Broker{
				Upstream: authserver.Upstream{Issuer: bc.up.URL(), ClientID: upClient, ClientSecret: "up-secret"},
				Access:   []authserver.AccessRule{{Group: "eng", Resource: resource, Scopes: []string{"mcp:tools"}}},
				CodeKey:  codeKey, RefreshStore: refresh, ConsentStore: consents,
			},
			Registration: &authserver.Registration{LoopbackRedirects: true, Store: clients},
		})
		if err != nil {
			t.Fatal(err)
		}
		bc.servers = append(bc.servers, as)
		ln := testkit.Listen(t)
		testkit.Serve(t, ln, as)
		backends = append(backends, "http://"+ln.Addr().String())
	}
	roundRobin(t, asLn, backends, make([]atomic.Int64, replicas))
	return bc
}

// step is one answer of the AS: its path and the replica that gave it.
type step struct{ path, replica string }

// browser is a user agent with cookies that follows redirects within the
// AS and the upstream IdP and stops at the application's redirect URI. It
// records which replica answered each AS request.
type browser struct {
	c     *http.Client
	mu    sync.Mutex
	steps []step
}

func (b *browser) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && resp.Header.Get("X-Cluster-Replica") != "" {
		b.mu.Lock()
		b.steps = append(b.steps, step{r.URL.Path, resp.Header.Get("X-Cluster-Replica")})
		b.mu.Unlock()
	}
	return resp, err
}

// take returns and forgets the steps recorded so far.
func (b *browser) take() []step {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.steps
	b.steps = nil
	return s
}

func (bc *brokerCluster) browser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{}
	b.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: b, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		if u := r.URL.String(); strings.HasPrefix(u, bc.asURL) || strings.HasPrefix(u, bc.up.URL()) {
			return nil
		}
		return http.ErrUseLastResponse
	}}
	return b
}

// register registers a public client through the proxy.
func (bc *brokerCluster) register(t *testing.T) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Post(bc.asURL+"/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+appRedirect+`"],"client_name":"Cluster Agent","token_endpoint_auth_method":"none"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.ClientID, resp.Header
}

func pkce() (verifier, challenge string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	verifier = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// authorize starts a login for client and follows it through the upstream
// IdP to the callback's answer: the consent page (200), the application's
// redirect (303) or an error page.
func (bc *brokerCluster) authorize(t *testing.T, b *browser, client, challenge string) (*http.Response, string) {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {appRedirect},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"st"}, "resource": {resource}}
	resp, err := b.c.Get(bc.asURL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// consent posts the consent page's form with decision allow.
func (bc *brokerCluster) consent(t *testing.T, b *browser, page string) *http.Response {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no consent form in %s", page)
	}
	resp, err := b.c.PostForm(bc.asURL+"/consent", url.Values{"csrf": {m[1]}, "decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// codeOf returns the code of the application's redirect, or "".
func codeOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		return ""
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), appRedirect) {
		t.Fatalf("redirect to %q", resp.Header.Get("Location"))
	}
	return u.Query().Get("code")
}

// tokenForm posts a token request through the proxy.
func (bc *brokerCluster) tokenForm(t *testing.T, form url.Values) (int, map[string]any, string) {
	t.Helper()
	resp, err := http.PostForm(bc.asURL+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header.Get("X-Cluster-Replica")
}

func redeem(client, code, verifier string) url.Values {
	return url.Values{"grant_type": {authserver.GrantAuthorizationCode}, "code": {code}, "redirect_uri": {appRedirect},
		"code_verifier": {verifier}, "client_id": {client}, "resource": {resource}}
}

// noTwoInARow fails when two consecutive steps were answered by one
// replica: every step of the flow must have crossed to another one.
func noTwoInARow(t *testing.T, what string, steps []step) {
	t.Helper()
	for i := 1; i < len(steps); i++ {
		if steps[i].replica == steps[i-1].replica {
			t.Fatalf("%s: %s and %s on one replica (%v): the proxy is not round robin", what, steps[i-1].path, steps[i].path, steps)
		}
	}
}

// TestClusterBrokerAcrossReplicas: with round robin, each step of a
// browser login lands on another replica than the step before, and it
// works:
//   - a client registered (RFC 7591) at one replica logs in, redeems its
//     code and refreshes at the others;
//   - the IdP's redirect back lands on another replica than /authorize;
//   - the consent given at one replica is remembered at the others (no
//     consent page), and its revocation at one replica shows the page
//     again at every replica.
func TestClusterBrokerAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t)
	bc := startBrokerCluster(t, rs)
	ctx := context.Background()

	st, client, h := bc.register(t)
	if st != http.StatusCreated || !strings.HasPrefix(client, "dcr-") {
		t.Fatalf("register: %d %q", st, client)
	}
	regReplica := h.Get("X-Cluster-Replica")
	b := bc.browser()
	v, ch := pkce()
	resp, page := bc.authorize(t, b, client, ch)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Cluster Agent") || !strings.Contains(page, "registered itself") {
		t.Fatalf("consent page: %d %s", resp.StatusCode, page)
	}
	code := codeOf(t, bc.consent(t, b, page))
	if code == "" {
		t.Fatal("no code after consent")
	}
	steps := append([]step{{"/register", regReplica}}, b.take()...)
	st, tok, tokReplica := bc.tokenForm(t, redeem(client, code, v))
	if st != http.StatusOK || tok["access_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("code redemption: %d %v", st, tok)
	}
	steps = append(steps, step{"/token", tokReplica})
	if len(steps) != 5 || steps[1].path != "/authorize" || steps[2].path != "/callback" || steps[3].path != "/consent" {
		t.Fatalf("steps %v", steps)
	}
	noTwoInARow(t, "first login", steps)
	t.Logf("register@%s authorize@%s callback@%s consent@%s token@%s", steps[0].replica, steps[1].replica, steps[2].replica, steps[3].replica, steps[4].replica)

	// The refresh token rotates at another replica.
	st, ref, refReplica := bc.tokenForm(t, url.Values{"grant_type": {authserver.GrantRefreshToken}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {client}})
	if st != http.StatusOK || refReplica == tokReplica {
		t.Fatalf("refresh: %d %v at %s after %s", st, ref, refReplica, tokReplica)
	}

	// Remembered consent at every replica: the callback redirects with a
	// code at once, wherever it lands.
	callbacks := map[string]bool{}
	for range 3 {
		v, ch := pkce()
		resp, page := bc.authorize(t, b, client, ch)
		code := codeOf(t, resp)
		if code == "" {
			t.Fatalf("remembered consent: %d %s", resp.StatusCode, page)
		}
		s := b.take()
		noTwoInARow(t, "remembered consent", s)
		callbacks[s[len(s)-1].replica] = true
		if st, body, _ := bc.tokenForm(t, redeem(client, code, v)); st != http.StatusOK {
			t.Fatalf("redemption: %d %v", st, body)
		}
		// one more request, so that the next callback lands elsewhere
		if r, err := http.Get(bc.asURL + "/jwks.json"); err == nil {
			r.Body.Close()
		}
	}
	if len(callbacks) != replicas {
		t.Fatalf("callbacks landed on %v: want every replica", callbacks)
	}

	// Revoked at one replica: the consent page is back at every replica.
	if ok, err := bc.servers[0].RevokeConsent(ctx, "dave", client); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	callbacks = map[string]bool{}
	for range 3 {
		_, ch := pkce()
		resp, page := bc.authorize(t, b, client, ch)
		if resp.StatusCode != http.StatusOK || !csrfRE.MatchString(page) {
			t.Fatalf("after revocation: %d %s", resp.StatusCode, page)
		}
		s := b.take()
		callbacks[s[len(s)-1].replica] = true
	}
	if len(callbacks) != replicas {
		t.Fatalf("callbacks landed on %v: want every replica", callbacks)
	}
}

// TestClusterBrokerRedisOutage: Redis stopped in the middle of logins.
// Nothing is accepted while it is down: the IdP's redirect back gets a
// 503 page (no code; the same redirect again a 502, its upstream code
// spent), registration a 503 with Retry-After, /authorize a
// 503 page, and the token endpoint a 503 for a registered client, even
// with a valid code. After the restart (Redis empty: no persistence),
// registered clients and consents are gone: the old client id is unknown
// (its code too: 401), a new registration logs in with the consent page
// again, and gets tokens.
func TestClusterBrokerRedisOutage(t *testing.T) {
	rs := redistest.Start(t)
	bc := startBrokerCluster(t, rs)

	st, client, _ := bc.register(t)
	if st != http.StatusCreated {
		t.Fatalf("register: %d", st)
	}
	// One login with a code not yet redeemed ...
	b := bc.browser()
	v, ch := pkce()
	resp, page := bc.authorize(t, b, client, ch)
	code := codeOf(t, bc.consent(t, b, page))
	if resp.StatusCode != http.StatusOK || code == "" {
		t.Fatalf("first login: %d", resp.StatusCode)
	}
	// ... and one stopped before the IdP's redirect back.
	stop := &http.Client{Jar: b.c.Jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, ch2 := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {appRedirect},
		"code_challenge": {ch2}, "code_challenge_method": {"S256"}, "state": {"st"}, "resource": {resource}}
	r1, err := stop.Get(bc.asURL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	r1.Body.Close()
	r2, err := stop.Get(r1.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	callback := r2.Header.Get("Location")
	if r1.StatusCode != http.StatusFound || !strings.HasPrefix(callback, bc.asURL+"/callback?") {
		t.Fatalf("login up to the callback: %d %d %q", r1.StatusCode, r2.StatusCode, callback)
	}

	rs.Stop()
	err = bc.servers[0].Ready(context.Background())
	for _, want := range []string{"consent store", "registered client store", "refresh token store", "replay store"} {
		if !errors.Is(err, authserver.ErrNotReady) || !strings.Contains(fmt.Sprint(err), want) {
			t.Fatalf("Ready with Redis down does not name the %s: %v", want, err)
		}
	}
	for i := range replicas { // each request lands on the next replica
		r, err := stop.Get(callback)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		// The first callback spends the upstream code, then cannot mark
		// the login (503); the same callback again is refused by the
		// upstream (502, the login cookie cleared), then as an unknown
		// login (400). None issues a code.
		want, page := []int{http.StatusServiceUnavailable}, "temporarily unavailable"
		if i > 0 {
			want, page = []int{http.StatusBadGateway, http.StatusBadRequest}, "Sign-in failed"
		}
		if !slices.Contains(want, r.StatusCode) || r.Header.Get("Location") != "" || !strings.Contains(string(body), page) {
			t.Fatalf("callback %d with Redis down: %d %q %s", i, r.StatusCode, r.Header.Get("Location"), body)
		}
		if st, _, h := bc.register(t); st != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
			t.Fatalf("register with Redis down: %d %v", st, h)
		}
		if st, body, _ := bc.tokenForm(t, redeem(client, code, v)); st != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
			t.Fatalf("code redemption with Redis down: %d %v", st, body)
		}
		r, err = stop.Get(bc.asURL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("authorize with Redis down: %d", r.StatusCode)
		}
	}

	rs.Start()
	// Empty Redis: the grant store quarantines replay-protected steps
	// (the default, minutes: the test ends it once a login met it);
	// registration works again at once.
	var fresh string
	deadline := time.Now().Add(10 * time.Second)
	for fresh == "" {
		st, id, _ := bc.register(t)
		if st == http.StatusCreated {
			fresh = id
		} else if time.Now().After(deadline) {
			t.Fatalf("register after the restart: %d", st)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if st, body, _ := bc.tokenForm(t, redeem(client, code, v)); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("code of a client lost with Redis' data: %d %v", st, body)
	}
	b = bc.browser()
	var page2 string
	for {
		v, ch = pkce()
		resp, page2 = bc.authorize(t, b, fresh, ch)
		if resp.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
		if resp.StatusCode == http.StatusServiceUnavailable {
			endQuarantine(t, rs)
		}
		time.Sleep(50 * time.Millisecond) // quarantine of the callback's single-use mark
	}
	if resp.StatusCode != http.StatusOK || !csrfRE.MatchString(page2) {
		t.Fatalf("login after the restart: %d %s", resp.StatusCode, page2)
	}
	code = codeOf(t, bc.consent(t, b, page2))
	if st, body, _ := bc.tokenForm(t, redeem(fresh, code, v)); st != http.StatusOK {
		t.Fatalf("tokens after the restart: %d %v", st, body)
	}
	if err := bc.servers[1].Ready(context.Background()); err != nil {
		t.Fatalf("Ready after the restart: %v", err)
	}
}

// endQuarantine ends the replay quarantine that a Redis restart started,
// as if it had passed: the epoch key keeps the master's replication id
// and names no end (stores/redis's epoch format "<replid>:<until ms>").
func endQuarantine(t *testing.T, rs *redistest.Server) {
	t.Helper()
	o, err := redisstore.ClientOptions(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	defer c.Close()
	key := redisstore.DefaultPrefix + "epoch:replid"
	v, err := c.Get(context.Background(), key).Result()
	rid, _, ok := strings.Cut(v, ":")
	if err != nil || !ok {
		t.Fatalf("epoch key %q: %v", v, err)
	}
	if err := c.Set(context.Background(), key, rid+":0", 0).Err(); err != nil {
		t.Fatal(err)
	}
}
