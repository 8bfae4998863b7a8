package clustertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/redis/go-redis/v9"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	"github.com/mcpauthz/mcpauthz/stores/postgres"
	"github.com/mcpauthz/mcpauthz/stores/postgres/pgtest"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

const (
	replicas = 3
	resource = "https://mcp.example.com/mcp"
	clientID = "ci"
	secret   = "ci-secret-0123456789"
)

// roundRobin serves on ln a reverse proxy over backends; hits counts the
// requests per backend, and the X-Cluster-Replica response header names
// the backend (its index) that answered.
func roundRobin(t *testing.T, ln net.Listener, backends []string, hits []atomic.Int64) {
	var next atomic.Uint64
	var proxies []*httputil.ReverseProxy
	for _, b := range backends {
		u, _ := url.Parse(b)
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(u))
	}
	testkit.Serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(next.Add(1)-1) % len(proxies)
		hits[i].Add(1)
		w.Header().Set("X-Cluster-Replica", strconv.Itoa(i))
		proxies[i].ServeHTTP(w, r)
	}))
}

// topology is 3 AS replicas (replay and limits in Redis) and 3 Guard
// replicas (policy from PostgreSQL, sessions in Redis), each with its own
// clients and stores, behind two round-robin proxies.
type topology struct {
	asURL, mcpURL string
	authorizers   []*casbinauthz.Authorizer
	guardHits     []atomic.Int64
}

func start(t *testing.T, rs *redistest.Server, dsn, mdl string) *topology {
	t.Helper()
	ctx := context.Background()
	top := &topology{guardHits: make([]atomic.Int64, replicas)}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := authserver.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	redisClient := func() *redis.Client {
		o, err := redisstore.ClientOptions(rs.URL())
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(o)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	// The AS proxy's address is the issuer: listen first, serve later.
	asLn := testkit.Listen(t)
	top.asURL = "http://" + asLn.Addr().String()
	var asBackends []string
	for range replicas {
		gs, err := redisstore.NewGrantStore(ctx, redisstore.ReplayConfig{Config: redisstore.Config{Client: redisClient()}})
		if err != nil {
			t.Fatal(err)
		}
		as, err := authserver.New(authserver.Config{
			Issuer:      top.asURL,
			Resources:   []authserver.Resource{{ID: resource, Scopes: []string{"mcp:tools"}}},
			Clients:     []authserver.Client{{ID: clientID, SecretHash: hash, GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: []string{"mcp:tools"}}},
			SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "as-1"}},
			ReplayStore: gs, RateLimiter: gs,
		})
		if err != nil {
			t.Fatal(err)
		}
		ln := testkit.Listen(t)
		testkit.Serve(t, ln, as)
		asBackends = append(asBackends, "http://"+ln.Addr().String())
	}
	roundRobin(t, asLn, asBackends, make([]atomic.Int64, replicas))

	var guardBackends []string
	for range replicas {
		v, err := verifier.New(ctx, verifier.Config{
			Issuers:  []verifier.IssuerConfig{{Issuer: top.asURL, JWKSURL: top.asURL + "/jwks.json"}},
			Audience: []string{resource},
		})
		if err != nil {
			t.Fatal(err)
		}
		a, _, _ := pgtest.NewWatchedAuthorizer(t, dsn, mdl)
		sb, err := redisstore.NewSessionBindings(redisstore.Config{Client: redisClient()})
		if err != nil {
			t.Fatal(err)
		}
		g, err := core.New(core.Config{Resource: resource, Verifier: v, Authorizer: a, Sessions: sb,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{top.asURL}}})
		if err != nil {
			t.Fatal(err)
		}
		s := mcp.NewServer(&mcp.Implementation{Name: "cluster", Version: "1"}, nil)
		echo := func(_ context.Context, _ *mcp.CallToolRequest, in struct{ Msg string }) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Msg}}}, nil, nil
		}
		mcp.AddTool(s, &mcp.Tool{Name: "echo"}, echo)
		mcp.AddTool(s, &mcp.Tool{Name: "deploy"}, echo)
		h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
		mux := http.NewServeMux()
		httpmcp.Register(mux, g, httpmcp.SDKHandler(h))
		ln := testkit.Listen(t)
		testkit.Serve(t, ln, mux)
		guardBackends = append(guardBackends, "http://"+ln.Addr().String())
		top.authorizers = append(top.authorizers, a)
	}
	guardLn := testkit.Listen(t)
	roundRobin(t, guardLn, guardBackends, top.guardHits)
	top.mcpURL = "http://" + guardLn.Addr().String() + "/mcp"
	return top
}

// token gets a client_credentials token through the AS proxy.
func (top *topology) token(t *testing.T) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, top.asURL+"/token", strings.NewReader(url.Values{"grant_type": {authserver.GrantClientCredentials}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body.AccessToken
}

type bearer struct{ tok string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

// calls calls tool once per Guard replica (round robin) and returns how
// many calls were allowed and refused.
func (top *topology) calls(t *testing.T, tok, tool string) (allowed, refused int) {
	t.Helper()
	ctx := context.Background()
	cl := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	sess, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: top.mcpURL,
		HTTPClient: &http.Client{Transport: bearer{tok}, Timeout: 10 * time.Second}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	before := make([]int64, replicas)
	for i := range before {
		before[i] = top.guardHits[i].Load()
	}
	for range replicas {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"Msg": "hi"}})
		switch {
		case err == nil && !res.IsError:
			allowed++
		case err != nil && strings.Contains(err.Error(), "403"), err != nil && strings.Contains(strings.ToLower(err.Error()), "forbidden"):
			refused++
		default:
			t.Fatalf("call %s: %v %+v", tool, err, res)
		}
	}
	for i := range before {
		if top.guardHits[i].Load() == before[i] {
			t.Fatalf("Guard replica %d got no request", i)
		}
	}
	return allowed, refused
}

// waitPolicy waits until every Guard replica decides tool for the client
// as want and they report one policy digest; it returns how long it took.
func (top *topology) waitPolicy(t *testing.T, tool string, want bool, limit time.Duration) time.Duration {
	t.Helper()
	p := &core.Principal{Kind: core.PrincipalClient, Issuer: top.asURL, Subject: clientID, ClientID: clientID}
	perm := core.Permission{Kind: core.ObjectTool, Name: tool, Action: core.ActionCall, Method: "tools/call"}
	start := time.Now()
	for {
		ok := true
		for _, a := range top.authorizers {
			d, err := a.Authorize(context.Background(), p, perm)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != want || a.Digest() != top.authorizers[0].Digest() {
				ok = false
				break
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("tool %s not %v on every replica with one digest within %v", tool, want, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Proof (3) and (5, PostgreSQL) inside the Redis topology: a policy change
// written to PostgreSQL with stock Casbin reaches all 3 Guard replicas
// within 1 s with identical digests, and the MCP calls through the proxy
// follow it on every replica; with PostgreSQL stopped the last good policy
// is kept and tokens are still issued (Redis); after its restart changes
// flow again.
func TestPolicyInPostgresAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t)
	pg := pgtest.Start(t)
	mdl, err := casbinmodels.Model("rbac_roles")
	if err != nil {
		t.Fatal(err)
	}
	wsrc, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wsrc.Close() })
	m, err := model.NewModelFromString(mdl)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := casbin.NewEnforcer(m, wsrc.Adapter())
	if err != nil {
		t.Fatal(err)
	}
	must := func(ok bool, err error) {
		t.Helper()
		if err != nil || !ok {
			t.Fatalf("writer: %t %v", ok, err)
		}
	}
	must(writer.AddPolicy("*", "server", "connect", "allow"))
	must(writer.AddPolicy("*", "*", "list", "allow"))
	must(writer.AddPolicy("role:ci", "tool:echo", "call", "allow"))
	must(writer.AddGroupingPolicy("client:"+clientID, "role:ci"))
	ww, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: pg.DSN()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ww.Close)

	top := start(t, rs, pg.DSN(), mdl)
	top.waitPolicy(t, "echo", true, 5*time.Second)
	status, tok := top.token(t)
	if status != 200 {
		t.Fatalf("token: %d", status)
	}
	if a, r := top.calls(t, tok, "echo"); a != replicas || r != 0 {
		t.Fatalf("echo before the change: %d allowed, %d refused", a, r)
	}
	if a, r := top.calls(t, tok, "deploy"); a != 0 || r != replicas {
		t.Fatalf("deploy before the change: %d allowed, %d refused", a, r)
	}

	limit := time.Second
	if raceEnabled {
		limit = 3 * time.Second
	}
	must(writer.AddPolicy("role:ci", "tool:deploy", "call", "allow"))
	if err := ww.Update(); err != nil {
		t.Fatal(err)
	}
	took := top.waitPolicy(t, "deploy", true, limit)
	must(writer.RemovePolicy("role:ci", "tool:echo", "call", "allow"))
	if err := ww.Update(); err != nil {
		t.Fatal(err)
	}
	took = max(took, top.waitPolicy(t, "echo", false, limit))
	t.Logf("slowest policy change to reach 3 Guard replicas: %v", took)
	if a, r := top.calls(t, tok, "deploy"); a != replicas || r != 0 {
		t.Fatalf("deploy after the change: %d allowed, %d refused", a, r)
	}
	if a, r := top.calls(t, tok, "echo"); a != 0 || r != replicas {
		t.Fatalf("echo after the change: %d allowed, %d refused", a, r)
	}
	good := top.authorizers[0].Digest()

	// PostgreSQL stopped: every replica keeps the last good policy; the AS
	// (Redis) still issues tokens and the Guards decide with that policy.
	pg.Stop()
	for i, a := range top.authorizers {
		if err := a.Reload(context.Background()); !errors.Is(err, casbinauthz.ErrStore) {
			t.Fatalf("replica %d Reload with PostgreSQL down: %v", i, err)
		}
		if a.Digest() != good {
			t.Fatalf("replica %d lost the last good policy", i)
		}
	}
	status, tok = top.token(t)
	if status != 200 {
		t.Fatalf("token with PostgreSQL down: %d", status)
	}
	if a, r := top.calls(t, tok, "deploy"); a != replicas || r != 0 {
		t.Fatalf("deploy with PostgreSQL down: %d allowed, %d refused", a, r)
	}
	if a, r := top.calls(t, tok, "echo"); a != 0 || r != replicas {
		t.Fatalf("echo with PostgreSQL down: %d allowed, %d refused", a, r)
	}

	// PostgreSQL back: a change written now reaches every replica.
	pg.Start()
	deadline := time.Now().Add(10 * time.Second)
	for { // the writer's pooled connections died with the server: retry
		ok, err := writer.AddPolicy("role:ci", "tool:echo", "call", "allow")
		if err == nil && ok {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("writer after the restart: %t %v", ok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		if err := ww.Update(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	top.waitPolicy(t, "echo", true, 5*time.Second)
	if a, r := top.calls(t, tok, "echo"); a != replicas || r != 0 {
		t.Fatalf("echo after PostgreSQL came back: %d allowed, %d refused", a, r)
	}
}
