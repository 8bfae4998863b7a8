package redisstore

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

const (
	clIdP      = "https://idp.example.com"
	clResource = "https://mcp.example.com/mcp"
	clSecretID = "svc"
	clSecret   = "s3cret-for-the-cluster-test"
	clJWTID    = "svc-jwt"
	clUser     = "alice@example.com"
	replicas   = 3
)

// cluster is 3 authorization server replicas with separate in-process state
// sharing one Redis and one signing key, behind a round-robin proxy.
type cluster struct {
	url      string // the proxy: the issuer every replica announces
	as       []*authserver.Server
	idpKey   *ecdsa.PrivateKey
	cliKey   *ecdsa.PrivateKey
	signKey  crypto.Signer
	redis    *redisServer
	counters []atomic.Int64 // requests per replica
}

// roundRobin serves a reverse proxy over backends; it appends the caller's
// address to X-Forwarded-For as a real proxy does. Its idle connections
// close after idleConnTimeout, before a backend closes them.
func roundRobin(t *testing.T, ln net.Listener, backends []string, hits []atomic.Int64) {
	var next atomic.Uint64
	targets := make([]*url.URL, len(backends))
	for i, b := range backends {
		targets[i], _ = url.Parse(b)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := int(next.Add(1) % uint64(len(targets)))
			if hits != nil {
				hits[i].Add(1)
			}
			pr.SetURL(targets[i])
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: idleConnTimeout},
	}
	testkit.Serve(t, ln, rp)
}

// idleConnTimeout is the IdleConnTimeout of the clients of testkit.Serve's
// servers, less than half their ReadHeaderTimeout (5 s), which closes a
// connection no request used yet: a transport keeps idle, unused, the
// connection it dialed for a request that took a freed one meanwhile. With
// equal timeouts the server's close raced the transport's reuse, and a
// POST sent on the closing connection failed (the proxy cannot send its
// body again: 502; 1 in 1,000 requests under load).
const idleConnTimeout = 2 * time.Second

// lastForwarded is Config.ClientAddress behind the proxy: the address the
// proxy appended, never one the client could set.
func lastForwarded(r *http.Request) string {
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return "unknown"
	}
	parts := strings.Split(xff[len(xff)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

func jwksOf(t testing.TB, k crypto.Signer, kid string) []byte {
	j, err := jose.PublicJWK(k.Public(), kid, jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(jose.JWKS{Keys: []jose.JWK{j}})
	return b
}

func newCluster(t *testing.T, srv *redisServer, rl authserver.RateLimit, quarantine time.Duration, leeway time.Duration) *cluster {
	t.Helper()
	gen := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	c := &cluster{idpKey: gen(), cliKey: gen(), signKey: gen(), redis: srv, counters: make([]atomic.Int64, replicas)}
	ln := testkit.Listen(t)
	c.url = "http://" + ln.Addr().String()
	hash, err := authserver.HashSecret(clSecret)
	if err != nil {
		t.Fatal(err)
	}
	both := []string{authserver.GrantClientCredentials, authserver.GrantJWTBearer}
	var backends []string
	for i := range replicas {
		// Separate in-process state: own Redis client, stores and Server.
		// The last replica uses the separate ReplayStore and Limiter (one
		// round trip per step), the others a GrantStore (one batch per
		// request), the second one with a Sender (the batch written before
		// the token is signed, its answer read after): they share the same
		// keys.
		rc := srv.patient(t)
		cfg := Config{Client: rc, Timeout: 5 * time.Second}
		var rs replay.Store
		var lim authserver.Limiter
		if i < replicas-1 {
			gcfg := ReplayConfig{Config: cfg, Quarantine: quarantine}
			if i == 1 {
				gcfg.Sender = srv.patientSender(t)
			}
			gs, err := NewGrantStore(context.Background(), gcfg)
			if err != nil {
				t.Fatal(err)
			}
			rs, lim = gs, gs
		} else {
			r, err := NewReplayStore(context.Background(), ReplayConfig{Config: cfg, Quarantine: quarantine})
			if err != nil {
				t.Fatal(err)
			}
			l, err := NewLimiter(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rs, lim = r, l
		}
		as, err := authserver.New(authserver.Config{
			Issuer:    c.url,
			Resources: []authserver.Resource{{ID: clResource, Scopes: []string{"mcp:tools"}}},
			Clients: []authserver.Client{
				{ID: clSecretID, SecretHash: hash, GrantTypes: both, Scopes: []string{"mcp:tools"}},
				{ID: clJWTID, JWKS: jwksOf(t, c.cliKey, "cli"), GrantTypes: both, Scopes: []string{"mcp:tools"}},
			},
			TrustedIdPs:   []authserver.TrustedIdP{{Issuer: clIdP, JWKS: jwksOf(t, c.idpKey, "idp")}},
			SigningKeys:   []authserver.SigningKey{{Signer: c.signKey, KeyID: "as-1"}},
			ReplayStore:   rs,
			RateLimit:     rl,
			RateLimiter:   lim,
			ClientAddress: lastForwarded,
			Leeway:        leeway,
			// A short quarantine (with a leeway) comes with assertions
			// that its marks cannot outlive (authserver.New checks).
			ReplayClockSkew:      leeway,
			MaxAssertionLifetime: max(quarantine-3*leeway, 0),
		})
		if err != nil {
			t.Fatal(err)
		}
		c.as = append(c.as, as)
		bl := testkit.Listen(t)
		testkit.Serve(t, bl, as)
		backends = append(backends, "http://"+bl.Addr().String())
	}
	roundRobin(t, ln, backends, c.counters)
	return c
}

func (c *cluster) mint(t testing.TB, k crypto.Signer, kid, typ string, claims map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(claims)
	tok, err := jose.Sign(k, jose.Header{Alg: jose.ES256, Kid: kid, Typ: typ}, b)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (c *cluster) idjag(t testing.TB, life time.Duration) string {
	now := time.Now()
	return c.mint(t, c.idpKey, "idp", authserver.TypeIDJAG, map[string]any{
		"iss": clIdP, "sub": clUser, "aud": c.url, "resource": clResource, "client_id": clSecretID,
		"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(life).Unix(), "scope": "mcp:tools",
	})
}

func (c *cluster) assertion(t *testing.T) string { return c.assertionFor(t, time.Minute) }

// assertionFor is a client assertion that expires life from now (in whole
// seconds: exp is now + life, rounded down).
func (c *cluster) assertionFor(t *testing.T, life time.Duration) string {
	now := time.Now()
	return c.mint(t, c.cliKey, "cli", "", map[string]any{
		"iss": clJWTID, "sub": clJWTID, "aud": c.url, "jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(life).Unix(),
	})
}

// httpFrom is a client whose connections come from a given loopback
// address (127.0.0.2, 127.0.0.3, ...): distinct sources to the proxy.
func httpFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64,
		IdleConnTimeout: idleConnTimeout}}
}

var transportErrs sync.Map

func errs() []string {
	var out []string
	transportErrs.Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	return out
}

type result struct {
	status int
	err    string
	token  string
}

func (c *cluster) token(t *testing.T, hc *http.Client, form url.Values, basic bool) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(clSecretID, form.Get("x-secret"))
	}
	resp, err := hc.Do(req)
	if err != nil {
		transportErrs.Store(err.Error(), true)
		return result{status: -1, err: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	r := result{status: resp.StatusCode}
	r.err, _ = m["error"].(string)
	r.token, _ = m["access_token"].(string)
	return r
}

func jagForm(jag, secret string) url.Values {
	return url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {jag}, "x-secret": {secret}}
}

func ccForm(secret string) url.Values {
	return url.Values{"grant_type": {authserver.GrantClientCredentials}, "x-secret": {secret}}
}

func assertionForm(a string) url.Values {
	return url.Values{"grant_type": {authserver.GrantClientCredentials}, "client_assertion_type": {authserver.AssertionTypeJWTBearer}, "client_assertion": {a}}
}

// parallel runs n requests at once and counts the answers by status.
func parallel(n int, do func() result) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := do()
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

// Proof (1): one ID-JAG and one private_key_jwt assertion, each redeemed
// 1,000 times in parallel over 3 replicas, yield exactly one token.
func TestClusterOneTimeUse(t *testing.T) {
	srv := startRedis(t)
	c := newCluster(t, srv, authserver.RateLimit{Disabled: true}, 0, 0)
	hc := httpFrom("127.0.0.1")
	jag := c.idjag(t, time.Minute)
	got := parallel(1000, func() result { return c.token(t, hc, jagForm(jag, clSecret), true) })
	// Under heavy load a Redis call may exceed its timeout: that request is
	// refused with 503 (fail closed), which is still no token.
	if got[200] != 1 || got[400]+got[503] != 999 || got[503] > 50 {
		t.Logf("transport errors: %v", errs())
		t.Fatalf("ID-JAG: answers by status %v, want exactly one 200 and 999 400 invalid_grant (or 503)", got)
	}
	t.Logf("ID-JAG: answers by status %v", got)
	a := c.assertion(t)
	got = parallel(1000, func() result { return c.token(t, hc, assertionForm(a), false) })
	if got[200] != 1 || got[401]+got[429]+got[503] != 999 || got[503] > 50 {
		t.Fatalf("client assertion: answers by status %v, want exactly one 200, the rest 401/429 (or 503)", got)
	}
	t.Logf("client assertion: answers by status %v", got)
	for i := range c.counters {
		if n := c.counters[i].Load(); n < 500 {
			t.Errorf("replica %d served %d requests: not spread", i, n)
		}
	}
}

// Proof (2): a client's grant limit holds across replicas within ±10 %, and
// a flood of wrong secrets for its id from another source does not stop it.
func TestClusterGrantLimit(t *testing.T) {
	srv := startRedis(t)
	const rate, burst = 20.0, 5
	const attackers = 4 // concurrent requests of the flood
	c := newCluster(t, srv, authserver.RateLimit{PerSecond: rate, Burst: burst}, 0, 0)
	legit, attacker := httpFrom("127.0.0.2"), httpFrom("127.0.0.3")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var ok, limited, flood401, flood429 atomic.Int64
	var wg sync.WaitGroup
	grantKey := base{prefix: DefaultPrefix}.key("rl", "grant|"+clSecretID)
	checks := monitorReads(t, srv, grantKey)
	start := time.Now()
	for range 4 { // the legitimate client asks as fast as it can
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				switch r := c.token(t, legit, ccForm(clSecret), true); r.status {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
				default:
					t.Errorf("legitimate client: %+v", r)
					return
				}
			}
		}()
	}
	// The attacker floods wrong secrets for the same id until the window
	// ends and it has met the failure limit at least once: on a loaded
	// machine its first requests may be too slow to exhaust the burst in
	// the window (bounded: 30 s).
	var fwg sync.WaitGroup
	for range attackers {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			for ctx.Err() == nil || (flood429.Load() == 0 && time.Since(start) < 30*time.Second) {
				switch r := c.token(t, attacker, ccForm("wrong"), true); r.status {
				case 401:
					flood401.Add(1)
				case 429:
					flood429.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fwg.Wait()
	floodEl := time.Since(start).Seconds()
	want := rate*el + burst
	// The lower bound replays the limiter's own checks of the client's
	// bucket, as Redis ran them (MONITOR), through the GCRA its scripts
	// implement: the grants due for exactly those checks. The client
	// cannot be granted more than the checks it got through, nor tokens
	// refilled while none came (a loaded machine not scheduling the
	// client, the proxy, a replica or Redis). Timed by the client's sends
	// instead, the window included the first requests' way to their check
	// (up to 0.4 s, 8 tokens under load) and pauses between a send and its
	// check went unseen: 54 tokens against a bound of 63 -10 %.
	times := checks()
	due := gcraGrants(times, rate, burst)
	t.Logf("%.2f s: %d tokens (want %.0f ±10%%; %d due for the %d checks Redis ran), %d limited; flood for %.2f s: %d answered 401, %d 429",
		el, ok.Load(), want, due, len(times), limited.Load(), floodEl, flood401.Load(), flood429.Load())
	if n := int64(len(times)); n != ok.Load()+limited.Load() {
		t.Errorf("MONITOR saw %d checks of the client's bucket, the client got %d answers", n, ok.Load()+limited.Load())
	}
	if g := float64(ok.Load()); g > want*1.1 {
		t.Fatalf("%d tokens in %.2f s; want at most %.0f +10%% (a per-replica limit would allow %.0f)", ok.Load(), el, want, replicas*want)
	}
	// The replay and Redis may differ on a check within microseconds of
	// its allowed time (TIME is read just before the GET that MONITOR
	// timestamps); each such check shifts one grant.
	if d := ok.Load() - int64(due); d < -2 || d > 2 {
		t.Fatalf("%d tokens for %d checks; the shared limit allows %d of them", ok.Load(), len(times), due)
	}
	if due == len(times) {
		t.Logf("every check was due a token: the machine was too loaded for the client to reach the limit")
	}
	// Burst 10, 1/s. The failure bucket is checked before the secret and
	// charged after it fails, so whenever it holds a token every attacker
	// request then in flight (4) can pass the check: at most 3 more after
	// the burst and 3 more per refill. (A 3.02 s run under load answered 22
	// × 401 against the former bound of burst + seconds + 8 = 21.)
	if max401 := 10 + (attackers - 1) + attackers*int64(math.Ceil(floodEl)); flood401.Load() > max401 || flood429.Load() == 0 {
		t.Fatalf("flood not throttled: %d × 401, %d × 429 in %.2f s", flood401.Load(), flood429.Load(), floodEl)
	}
}

// gcraGrants is how many of the checks at times (µs, in order) a bucket
// of rate and burst allows: the GCRA of the limiter's scripts (gcra,
// grantStepsSrc), whose state is the theoretical arrival time.
func gcraGrants(times []int64, rate float64, burst int) int {
	iv := int64(math.Round(1e6 / rate))
	var tat int64
	n := 0
	for i, now := range times {
		if i == 0 || tat <= now {
			tat = now
		}
		if tat+iv-iv*int64(burst) > now {
			continue
		}
		tat += iv
		n++
	}
	return n
}

// monitorReads records, through MONITOR on its own connection, when Redis
// runs a script command reading key (the limiter's check of one bucket:
// its GET). The returned func ends the recording and returns the times in
// microseconds of the Redis clock, in order.
func monitorReads(t *testing.T, srv *redisServer, key string) func() []int64 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	br := bufio.NewReaderSize(conn, 64<<10)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("MONITOR: %q %v", line, err)
	}
	_ = conn.SetDeadline(time.Time{})
	// A line is +<seconds>.<µs> [<db> lua] "GET" "<key>". An ECHO of
	// mark on another connection ends the recording: once MONITOR shows
	// it, every command before it has been read.
	suffix := ` lua] "GET" "` + key + `"`
	const mark = `"mcpauthz-monitor-end"`
	var times []int64
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				readErr = err
				return
			}
			line = strings.TrimSuffix(line, "\r\n")
			if strings.HasSuffix(line, mark) {
				return
			}
			if !strings.HasSuffix(line, suffix) {
				continue
			}
			ts, _, _ := strings.Cut(strings.TrimPrefix(line, "+"), " ")
			sec, us, _ := strings.Cut(ts, ".")
			a, err1 := strconv.ParseInt(sec, 10, 64)
			b, err2 := strconv.ParseInt(us, 10, 64)
			if err1 != nil || err2 != nil || len(us) != 6 {
				readErr = fmt.Errorf("MONITOR line %q: bad timestamp", line)
				return
			}
			times = append(times, a*1_000_000+b)
		}
	}()
	return func() []int64 {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		if err := srv.client(t).Echo(context.Background(), strings.Trim(mark, `"`)).Err(); err != nil {
			t.Fatal(err)
		}
		<-done
		if readErr != nil {
			t.Fatalf("MONITOR: %v", readErr)
		}
		return times
	}
}

// Proof (4), store level: a session bound through one replica's store is
// bound to its principal on every replica's store. (The Guard's wiring of
// core.SessionBindings: TestGuardSharedSessionBindings.)
func TestClusterSessionBinding(t *testing.T) {
	srv := startRedis(t)
	var stores []*SessionBindings
	for range replicas {
		s, err := NewSessionBindings(Config{Client: srv.client(t)})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	ctx := context.Background()
	if err := stores[0].Bind(ctx, "sess-1", "user:alice", time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if p, err := s.Lookup(ctx, "sess-1"); err != nil || p != "user:alice" {
			t.Errorf("replica %d: %q, %v", i, p, err)
		}
		if err := s.Bind(ctx, "sess-1", "user:mallory", time.Minute, 10); !errors.Is(err, core.ErrSessionBound) {
			t.Errorf("replica %d: rebinding to another principal: %v", i, err)
		}
	}
	if err := stores[2].Unbind(ctx, "sess-1", "user:alice"); err != nil {
		t.Fatal(err)
	}
	if p, _ := stores[1].Lookup(ctx, "sess-1"); p != "" {
		t.Fatalf("unbound on replica 2, still bound on replica 1: %q", p)
	}
}

// guards starts 3 Guard replicas (net/http adapter, go-sdk stateless MCP
// server) behind a round-robin proxy; they verify the AS replicas' tokens
// through the AS proxy's JWK Set.
func guards(t *testing.T, c *cluster) string {
	var backends []string
	for range replicas {
		v, err := verifier.New(context.Background(), verifier.Config{
			Issuers:  []verifier.IssuerConfig{{Issuer: c.url, JWKSURL: c.url + "/jwks.json"}},
			Audience: []string{clResource},
		})
		if err != nil {
			t.Fatal(err)
		}
		g, err := core.New(core.Config{Resource: clResource, Verifier: v, AuthenticateOnly: true,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{c.url}}})
		if err != nil {
			t.Fatal(err)
		}
		s := mcp.NewServer(&mcp.Implementation{Name: "cluster", Version: "1"}, nil)
		mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct{ Msg string }) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Msg}}}, nil, nil
		})
		h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
		mux := http.NewServeMux()
		httpmcp.Register(mux, g, httpmcp.SDKHandler(h))
		ln := testkit.Listen(t)
		testkit.Serve(t, ln, mux)
		backends = append(backends, "http://"+ln.Addr().String())
	}
	ln := testkit.Listen(t)
	roundRobin(t, ln, backends, nil)
	return "http://" + ln.Addr().String() + "/mcp"
}

type bearer struct{ tok string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

func callEcho(ctx context.Context, endpoint, tok string) error {
	cl := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	sess, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{tok}, Timeout: 10 * time.Second}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return err
	}
	defer sess.Close()
	for range replicas { // one call per Guard replica
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"Msg": "hi"}})
		if err != nil {
			return err
		}
		if res.IsError {
			return fmt.Errorf("tool error: %+v", res.Content)
		}
	}
	return nil
}

// Proof (5): Redis stopped mid-run. No replay is accepted, grants answer
// 503, Guard traffic that needs no store continues, and everything recovers
// when Redis restarts (empty: the replay store quarantines, so a jti
// accepted before the loss is still never accepted again).
func TestClusterRedisOutage(t *testing.T) {
	srv := startRedis(t)
	const quarantine = 6 * time.Second
	c := newCluster(t, srv, authserver.RateLimit{PerSecond: 1000, Burst: 1000}, quarantine, time.Millisecond)
	hc := httpFrom("127.0.0.1")
	mcpURL := guards(t, c)
	ctx := context.Background()

	jag := c.idjag(t, 5*time.Second) // still valid at the restart, expired when the quarantine ends
	minted := time.Now()
	first := c.token(t, hc, jagForm(jag, clSecret), true)
	if first.status != 200 {
		t.Fatalf("first redemption: %+v", first)
	}
	if err := callEcho(ctx, mcpURL, first.token); err != nil {
		t.Fatalf("Guard before the outage: %v", err)
	}

	srv.Stop()
	for i := range replicas {
		if r := c.token(t, hc, jagForm(jag, clSecret), true); r.status != 503 || r.err != "temporarily_unavailable" {
			t.Fatalf("replay while Redis is down (try %d): %+v, want 503", i, r)
		}
		if r := c.token(t, hc, jagForm(c.idjag(t, 5*time.Second), clSecret), true); r.status != 503 {
			t.Fatalf("new grant while Redis is down: %+v, want 503", r)
		}
		if r := c.token(t, hc, ccForm(clSecret), true); r.status != 503 {
			t.Fatalf("client_credentials while Redis is down: %+v, want 503", r)
		}
	}
	if err := callEcho(ctx, mcpURL, first.token); err != nil {
		t.Fatalf("Guard while Redis is down: %v", err)
	}

	srv.Start() // restarts empty (no persistence)
	restarted := time.Now()
	deadline := restarted.Add(20 * time.Second)
	var replayAnswers []int
	t.Logf("restart %v after minting the ID-JAG", time.Since(minted))
	for {
		if r := c.token(t, hc, jagForm(jag, clSecret), true); r.status == 200 {
			t.Fatalf("replay accepted after the restart (%v in)", time.Since(restarted))
		} else {
			if len(replayAnswers) == 0 {
				t.Logf("first replay answer after the restart: %+v", r)
			}
			replayAnswers = append(replayAnswers, r.status)
		}
		r := c.token(t, hc, jagForm(c.idjag(t, 5*time.Second), clSecret), true)
		if r.status == 200 {
			if err := callEcho(ctx, mcpURL, r.token); err != nil {
				t.Fatalf("Guard with a token issued after recovery: %v", err)
			}
			break
		}
		if r.status != 503 || time.Now().After(deadline) {
			t.Fatalf("not recovered %v after the restart: %+v", time.Since(restarted), r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("recovered %v after the restart; the old ID-JAG was answered %v", time.Since(restarted).Round(time.Millisecond), replayAnswers)
	if time.Since(restarted) < quarantine-time.Second || replayAnswers[0] != 503 {
		t.Fatalf("no quarantine after the data loss: recovered after %v, old ID-JAG answered %v", time.Since(restarted), replayAnswers)
	}
	if r := c.token(t, hc, jagForm(jag, clSecret), true); r.status != 400 || r.err != "invalid_grant" {
		t.Fatalf("old ID-JAG after recovery: %+v, want 400 invalid_grant (expired)", r)
	}
	if r := c.token(t, hc, ccForm(clSecret), true); r.status != 200 {
		t.Fatalf("client_credentials after recovery: %+v", r)
	}
}

// Forged ID-JAGs carrying a victim's jti (the same client, its claims, a
// signature from another key), sent to every replica (plain GrantStore,
// GrantStore with a Sender, separate stores): none stops the genuine
// ID-JAG. Then 500 forged and 500 genuine copies of one new ID-JAG at once
// over the replicas, and one more genuine copy after: exactly one token in
// all. A guard for any change that would record the key before the
// signature is verified.
func TestClusterForgedIDJAG(t *testing.T) {
	srv := startRedis(t)
	c := newCluster(t, srv, authserver.RateLimit{Disabled: true}, 0, 0)
	hc := httpFrom("127.0.0.1")
	forger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pair := func() (genuine, forged string) {
		now := time.Now()
		claims := map[string]any{
			"iss": clIdP, "sub": clUser, "aud": c.url, "resource": clResource, "client_id": clSecretID,
			"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "scope": "mcp:tools",
		}
		return c.mint(t, c.idpKey, "idp", authserver.TypeIDJAG, claims), c.mint(t, forger, "idp", authserver.TypeIDJAG, claims)
	}
	for round := range replicas {
		genuine, forged := pair()
		for i := range replicas { // one forged copy on each replica
			if r := c.token(t, hc, jagForm(forged, clSecret), true); r.status != 400 || r.err != "invalid_grant" {
				t.Fatalf("round %d, forged copy %d: %+v", round, i, r)
			}
		}
		if r := c.token(t, hc, jagForm(genuine, clSecret), true); r.status != 200 {
			t.Fatalf("round %d: genuine after forged copies: %+v", round, r)
		}
		if r := c.token(t, hc, jagForm(genuine, clSecret), true); r.status != 400 {
			t.Fatalf("round %d: genuine again: %+v", round, r)
		}
	}
	genuine, forged := pair()
	var n atomic.Int64
	got := parallel(1000, func() result {
		if n.Add(1)%2 == 0 {
			return c.token(t, hc, jagForm(forged, clSecret), true)
		}
		return c.token(t, hc, jagForm(genuine, clSecret), true)
	})
	after := c.token(t, hc, jagForm(genuine, clSecret), true)
	tokens := got[200]
	if after.status == 200 {
		tokens++
	}
	if tokens != 1 || got[400]+got[503]+got[200] != 1000 || got[503] > 50 {
		t.Logf("transport errors: %v", errs())
		t.Fatalf("burst: answers by status %v, then %d: want exactly one token in all", got, after.status)
	}
	t.Logf("burst: answers by status %v, then %d", got, after.status)
}
