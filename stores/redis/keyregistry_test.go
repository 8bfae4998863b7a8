package redisstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// thumbOf is a thumbprint-shaped value for registry tests (the SHA-256 of
// i in base64url).
func thumbOf(i int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(i)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

const keyCheckInterval = 10 * time.Second

// keyReplicas are authorization server replicas with separate in-process
// state (own Redis client, registry and Server) sharing one Redis prefix.
type keyReplicas struct {
	as    []*authserver.Server
	clock *testkit.Clock
}

func newKeyReplicas(t *testing.T, srv *redisServer, prefix string, n int, keys []authserver.SigningKey) *keyReplicas {
	t.Helper()
	hash, err := authserver.HashSecret(clSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &keyReplicas{clock: testkit.NewClock(time.Now())}
	for i := range n {
		reg, err := NewKeyRegistry(Config{Client: srv.client(t), Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		as, err := authserver.New(authserver.Config{
			Issuer:      "http://127.0.0.1:9",
			Resources:   []authserver.Resource{{ID: clResource, Scopes: []string{"mcp:tools"}}},
			Clients:     []authserver.Client{{ID: clSecretID, SecretHash: hash, GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: []string{"mcp:tools"}}},
			SigningKeys: keys,
			KeyCheck:    &authserver.KeyCheck{Registry: reg, Replica: fmt.Sprintf("as-%d", i), Interval: keyCheckInterval},
			Now:         r.clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		r.as = append(r.as, as)
	}
	return r
}

// pass makes every replica publish and compare once; it returns each
// replica's readiness error.
func (r *keyReplicas) pass(t *testing.T) []error {
	t.Helper()
	r.clock.Add(keyCheckInterval)
	out := make([]error, len(r.as))
	for i, as := range r.as {
		out[i] = as.Ready(t.Context())
	}
	return out
}

// settle is two passes (the first publishes what changed, the second
// compares everyone's latest views).
func (r *keyReplicas) settle(t *testing.T) []error {
	t.Helper()
	r.pass(t)
	return r.pass(t)
}

// crossVerify issues a token at every replica and verifies it with every
// replica's JWK Set; it returns the kids that signed.
func (r *keyReplicas) crossVerify(t *testing.T, step string) map[string]bool {
	t.Helper()
	kids := map[string]bool{}
	for i, issuer := range r.as {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(clSecretID, clSecret)
		issuer.ServeHTTP(rec, req)
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
			t.Fatalf("%s: replica %d: %d %s", step, i, rec.Code, rec.Body)
		}
		tok, err := jose.ParseCompact(tr.AccessToken, jose.ParseOptions{Algorithms: []string{jose.ES256}})
		if err != nil {
			t.Fatal(err)
		}
		kids[tok.Header.Kid] = true
		for j, verifier := range r.as {
			rec := httptest.NewRecorder()
			verifier.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks.json", nil))
			keys, err := jose.ParseJWKS(rec.Body.Bytes(), jose.KeySetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jose.VerifyToken(t.Context(), tok, jose.NewStaticKeySet(keys...)); err != nil {
				t.Errorf("%s: token of replica %d (kid %s) does not verify with replica %d's JWK Set: %v", step, i, tok.Header.Kid, j, err)
			}
		}
	}
	return kids
}

func genSigningKeys(t *testing.T, n int) []authserver.SigningKey {
	t.Helper()
	var out []authserver.SigningKey
	for i := range n {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, authserver.SigningKey{Signer: k, KeyID: fmt.Sprintf("k%d", i+1)})
	}
	return out
}

func wantReady(t *testing.T, step string, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: replica %d not ready: %v", step, i, err)
		}
	}
}

// TestKeyRegistryRotationWalk walks 3 replicas on one real Redis through
// the rotation of docs/deployment.md (publish the new key, switch the
// active key, retire the old one), each step rolled out one replica at a
// time. In every intermediate state every replica's tokens verify with
// every replica's JWK Set, and every replica is ready, except a replica
// still publishing the old key once most replicas retired it (the last of
// step 3's rollout, flagged stale until its turn). Then one replica skips
// or botches each step in turn, and is flagged with the outcome that
// names it while the others stay ready.
func TestKeyRegistryRotationWalk(t *testing.T) {
	srv := startRedis(t)
	k := genSigningKeys(t, 3)
	k1, k2, k3 := k[0], k[1], k[2]
	r := newKeyReplicas(t, srv, "{walk}:", 3, []authserver.SigningKey{k1})
	wantReady(t, "start", r.settle(t))
	steps := []struct {
		name string
		keys []authserver.SigningKey
		kid  string
	}{
		{"1 publish k2", []authserver.SigningKey{k1, k2}, "k1"},
		{"2 sign with k2", []authserver.SigningKey{k2, k1}, "k2"},
		{"3 retire k1", []authserver.SigningKey{k2}, "k2"},
	}
	for _, st := range steps {
		for i := range r.as {
			if err := r.as[i].SetSigningKeys(st.keys); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s, %d of 3 replicas", st.name, i+1)
			r.crossVerify(t, name)
			errs := r.settle(t)
			for j, err := range errs {
				// in step 3, once two replicas retired k1, the third
				// (not rolled out yet) is flagged
				lagging := st.kid == "k2" && len(st.keys) == 1 && i == 1 && j == 2
				if lagging {
					if !errors.Is(err, authserver.ErrKeyMismatch) || !strings.Contains(err.Error(), "rotation step 3") {
						t.Fatalf("%s: replica %d still publishing k1: %v", name, j, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: replica %d not ready: %v", name, j, err)
				}
			}
		}
		if kids := r.crossVerify(t, st.name); len(kids) != 1 || !kids[st.kid] {
			t.Fatalf("%s: signed with %v, want %s", st.name, kids, st.kid)
		}
	}

	skips := []struct {
		name         string
		others, odd  []authserver.SigningKey
		outcome, fix string
	}{
		{"stale key file", []authserver.SigningKey{k1}, []authserver.SigningKey{k3}, "1 of 3 replicas publish", "give it the other replicas' signing_keys"},
		{"publish skipped here", []authserver.SigningKey{k2, k1}, []authserver.SigningKey{k1}, "which this replica does not publish", "rotation step 1"},
		{"switched without publishing", []authserver.SigningKey{k1}, []authserver.SigningKey{k2, k1}, "1 of 3 replicas publish", "give it the other replicas' signing_keys"},
		{"switch skipped", []authserver.SigningKey{k2}, []authserver.SigningKey{k1, k2}, "1 of 3 replicas publish", "give it the other replicas' signing_keys"},
		{"retire skipped", []authserver.SigningKey{k2}, []authserver.SigningKey{k2, k1}, "the others retired it", "rotation step 3"},
	}
	for i, sk := range skips {
		t.Run(sk.name, func(t *testing.T) {
			r := newKeyReplicas(t, srv, fmt.Sprintf("{skip%d}:", i), 3, []authserver.SigningKey{k1})
			wantReady(t, "start", r.settle(t))
			// the history of a rotation: k1, then k2 published after it
			for _, as := range r.as {
				if err := as.SetSigningKeys([]authserver.SigningKey{k1, k2}); err != nil {
					t.Fatal(err)
				}
			}
			wantReady(t, "k2 published", r.settle(t))
			for j, as := range r.as {
				keys := sk.others
				if j == 2 {
					keys = sk.odd
				}
				if err := as.SetSigningKeys(keys); err != nil {
					t.Fatal(err)
				}
			}
			errs := r.settle(t)
			wantReady(t, sk.name, errs[:2])
			if err := errs[2]; !errors.Is(err, authserver.ErrKeyMismatch) || !strings.Contains(err.Error(), sk.outcome) || !strings.Contains(err.Error(), sk.fix) {
				t.Fatalf("odd replica: %v, want %q and %q", err, sk.outcome, sk.fix)
			}
			if err := r.as[2].SetSigningKeys(sk.others); err != nil {
				t.Fatal(err)
			}
			wantReady(t, "fixed", r.settle(t))
		})
	}
}

// TestKeyRegistryFlushRelearns: a Redis flush lost the first-seen record,
// so every key counted as first published by the next publication and a
// replica still publishing the retired k1 was no longer flagged stale.
// The replicas now send the first-seen times they were answered, and
// the registry re-learns the order from them.
func TestKeyRegistryFlushRelearns(t *testing.T) {
	srv := startRedis(t)
	k := genSigningKeys(t, 3)
	k1, k2, k3 := k[0], k[1], k[2]
	r := newKeyReplicas(t, srv, "{flush}:", 3, []authserver.SigningKey{k1})
	wantReady(t, "start", r.settle(t))
	for _, as := range r.as {
		if err := as.SetSigningKeys([]authserver.SigningKey{k1, k2}); err != nil {
			t.Fatal(err)
		}
	}
	wantReady(t, "k2 published", r.settle(t))
	for j, as := range r.as {
		keys := []authserver.SigningKey{k2}
		if j == 2 {
			keys = []authserver.SigningKey{k2, k1} // retire skipped
		}
		if err := as.SetSigningKeys(keys); err != nil {
			t.Fatal(err)
		}
	}
	stale := func(step string, errs []error) {
		t.Helper()
		wantReady(t, step, errs[:2])
		if err := errs[2]; !errors.Is(err, authserver.ErrKeyMismatch) || !strings.Contains(err.Error(), "rotation step 3") {
			t.Fatalf("%s: replica still publishing k1: %v", step, err)
		}
	}
	stale("before the flush", r.settle(t))
	if err := srv.client(t).FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	stale("after the flush", r.settle(t))
	// a key published after the flush is new: publishing it (rotation
	// step 1, rolled out one replica at a time) is not stale
	if err := r.as[0].SetSigningKeys([]authserver.SigningKey{k2, k3}); err != nil {
		t.Fatal(err)
	}
	if errs := r.settle(t); errs[0] != nil || errs[1] != nil {
		t.Fatalf("k3 published by one replica after the flush: %v", errs)
	}
	if err := r.as[2].SetSigningKeys([]authserver.SigningKey{k2}); err != nil {
		t.Fatal(err)
	}
	wantReady(t, "fixed", r.settle(t))
}

// Redis down: the last result stands for MaxUnknown on the replicas'
// clock, then they are not ready; when Redis is back (empty) they
// publish again and agree.
func TestKeyRegistryRedisDown(t *testing.T) {
	srv := startRedis(t)
	k := genSigningKeys(t, 1)
	r := newKeyReplicas(t, srv, "{down}:", 2, k)
	wantReady(t, "start", r.settle(t))
	srv.Stop()
	wantReady(t, "down for 10 s", r.pass(t))
	r.clock.Add(authserver.DefaultKeyCheckMaxUnknown)
	for i, err := range r.pass(t) {
		if err == nil || !errors.Is(err, core.ErrStoreUnavailable) || !strings.Contains(err.Error(), "key registry unreachable") {
			t.Fatalf("replica %d after MaxUnknown: %v", i, err)
		}
	}
	srv.Start()
	wantReady(t, "Redis back", r.settle(t))
}

// The registry forgets expired views, bounds the views it answers and
// refuses what it cannot read back.
func TestKeyRegistryBounds(t *testing.T) {
	srv := startRedis(t)
	c := srv.client(t)
	reg, err := NewKeyRegistry(Config{Client: c, Prefix: "{bounds}:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	th := thumbOf
	view := func(name string, keys ...string) authserver.KeyView {
		return authserver.KeyView{Replica: name, Active: keys[0], Published: keys}
	}
	if _, err := reg.Publish(ctx, view("stays", th(1)), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Publish(ctx, view("gone", th(1)), 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	st, err := reg.Publish(ctx, view("here", th(2), th(1)), time.Minute)
	names := map[string]int{}
	for _, v := range st.Views {
		names[v.Replica] = len(v.Published)
	}
	if err != nil || len(st.Views) != 2 || names["stays"] != 1 || names["here"] != 2 {
		t.Fatalf("expired view: %+v %v", st, err)
	}
	c.HDel(ctx, reg.key("keyreg", "views"), "stays")
	if !st.FirstSeen[th(1)].Before(st.FirstSeen[th(2)]) && !st.FirstSeen[th(1)].Equal(st.FirstSeen[th(2)]) {
		t.Fatalf("first seen: %v", st.FirstSeen)
	}
	for _, bad := range []authserver.KeyView{
		{Replica: "", Active: th(1), Published: []string{th(1)}},
		{Replica: "x", Active: "short", Published: []string{"short"}},
		{Replica: "x", Active: th(1), Published: []string{th(1), "a|b"}},
		{Replica: "x", Active: th(1)},
	} {
		if _, err := reg.Publish(ctx, bad, time.Minute); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	// another writer's garbage is an error, not a view
	if err := c.HSet(ctx, reg.key("keyreg", "views"), "evil", "99999999999999|x|y").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Publish(ctx, view("here", th(2)), time.Minute); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("garbage view: %v", err)
	}
	c.HDel(ctx, reg.key("keyreg", "views"), "evil")
	// more live views than MaxKeyCheckReplicas
	for i := range authserver.MaxKeyCheckReplicas + 1 {
		if err := c.HSet(ctx, reg.key("keyreg", "views"), fmt.Sprintf("r%d", i), "99999999999999|"+th(1)+"|"+th(1)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.Publish(ctx, view("here", th(2)), time.Minute); err == nil || !strings.Contains(err.Error(), "too many replicas") {
		t.Fatalf("too many views: %v", err)
	}
	// the first-seen hash stays bounded: thumbprints no view publishes go
	c.Del(ctx, reg.key("keyreg", "views"))
	for i := range 100 {
		if _, err := reg.Publish(ctx, view("here", th(1000+i)), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.HLen(ctx, reg.key("keyreg", "seen")).Val(); n > maxSeenThumbprints+1 {
		t.Fatalf("first-seen hash holds %d thumbprints", n)
	}
}

// A replica restarted under its (stable) name replaces its view: four
// starts within the views' lifetime leave one view, holding the last
// start's keys, so a restarted replica counts once (review 8).
func TestKeyRegistryRestartReplacesView(t *testing.T) {
	srv := startRedis(t)
	reg, err := NewKeyRegistry(Config{Client: srv.client(t), Prefix: "{restart}:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	th := thumbOf
	for i := range 2 {
		if _, err := reg.Publish(ctx, authserver.KeyView{Replica: fmt.Sprintf("as-%d", i), Active: th(1), Published: []string{th(1)}}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	var st authserver.KeyRegistryState
	for i := range 4 {
		if st, err = reg.Publish(ctx, authserver.KeyView{Replica: "as-bad", Active: th(10 + i), Published: []string{th(10 + i)}}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	active := map[string]string{}
	for _, v := range st.Views {
		active[v.Replica] = v.Active
	}
	if len(st.Views) != 3 || active["as-bad"] != th(13) || active["as-0"] != th(1) {
		t.Fatalf("after 4 restarts of one replica: %+v", st.Views)
	}
}

// BenchmarkKeyRegistryPublish measures one publication (the script and its
// answer) with 3 live views of 2 keys each, as a replica makes once per
// check interval.
func BenchmarkKeyRegistryPublish(b *testing.B) {
	srv := startRedis(b)
	reg, err := NewKeyRegistry(Config{Client: srv.client(b), Prefix: "{bench}:"})
	if err != nil {
		b.Fatal(err)
	}
	th := thumbOf
	for i := range 2 {
		if _, err := reg.Publish(b.Context(), authserver.KeyView{Replica: fmt.Sprintf("as-%d", i), Active: th(1), Published: []string{th(1), th(2)}}, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	v := authserver.KeyView{Replica: "as-2", Active: th(1), Published: []string{th(1), th(2)}}
	b.ResetTimer()
	for range b.N {
		if st, err := reg.Publish(b.Context(), v, time.Hour); err != nil || len(st.Views) != 3 {
			b.Fatal(len(st.Views), err)
		}
	}
}
