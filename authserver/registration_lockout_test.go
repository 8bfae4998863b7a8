package authserver_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestRegistrationLockoutByOneUser: one ordinary enterprise user registers
// clients and completes one login with each, which protects them from
// eviction. When they fill Registration.MaxBytes, registration answers 503
// for everyone; unauthenticated /authorize lookups of those client ids keep
// them from idling out, so the lockout outlives IdleLifetime.
func TestRegistrationLockoutByOneUser(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) {
		r.MaxBytes = 16 << 10
		r.PerSource = authserver.Limit{PerSecond: 1000, Burst: 1000}
		r.Global = authserver.Limit{PerSecond: 1000, Burst: 1000}
	}))
	body := `{"redirect_uris":["` + brRedirect + `"],"token_endpoint_auth_method":"none","grant_types":["authorization_code"],"client_name":"x"}`
	var ids []string
	for i := 0; i < 60; i++ {
		status, out, _ := e.register(t, fmt.Sprintf("insider-%d", i), "application/json", body)
		if status == http.StatusServiceUnavailable {
			break
		}
		if status != http.StatusCreated {
			t.Fatalf("register %d: %d %v", i, status, out)
		}
		id := out["client_id"].(string)
		v, ch := pkcePair()
		loc := e.login(t, e.browser(), e.authzParams(id, brRedirect, ch))
		code := loc.Query().Get("code")
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {brRedirect},
			"code_verifier": {v}, "client_id": {id}, "resource": {e2eMCP}}
		if st, out, _ := e.token(t, f, false); st != http.StatusOK {
			t.Fatalf("token %d: %d %v", i, st, out)
		}
		ids = append(ids, id)
	}
	t.Logf("%d used clients registered", len(ids))
	for day := 0; day < 40; day++ {
		e.clock.Add(24 * time.Hour)
		for _, id := range ids {
			e.knownClient(t, id) // unauthenticated lookup keeps it alive
		}
	}
	if status, _, _ := e.register(t, "victim", "application/json", body); status == http.StatusServiceUnavailable {
		t.Errorf("40 days later a new host still cannot register (503): one user holds the registry")
	}
}

// TestRegisteredClientKeptByRefresh: since lookups no longer restart a
// registered client's idle lifetime, an authenticated use must: a client
// whose user keeps refreshing stays registered past the idle lifetime,
// while one only looked up is forgotten.
func TestRegisteredClientKeptByRefresh(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) { r.IdleLifetime = 3 * 24 * time.Hour }))
	body := `{"redirect_uris":["` + brRedirect + `"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"client_name":"x"}`
	reg := func(src string) string {
		status, out, _ := e.register(t, src, "application/json", body)
		if status != http.StatusCreated {
			t.Fatalf("register: %d %v", status, out)
		}
		return out["client_id"].(string)
	}
	kept, looked := reg("a"), reg("b")
	v, ch := pkcePair()
	loc := e.login(t, e.browser(), e.authzParams(kept, brRedirect, ch))
	st, out, _ := e.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {brRedirect},
		"code_verifier": {v}, "client_id": {kept}, "resource": {e2eMCP}}, false)
	if st != http.StatusOK {
		t.Fatalf("token: %d %v", st, out)
	}
	for day := 0; day < 6; day++ {
		e.clock.Add(20 * time.Hour)
		e.knownClient(t, looked)
		rt, _ := out["refresh_token"].(string)
		if st, out, _ = e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {kept}}, false); st != http.StatusOK {
			t.Fatalf("day %d: refresh of a client in use: %d %v", day+1, st, out)
		}
	}
	if !e.knownClient(t, kept) {
		t.Error("a client refreshed every 20 h was forgotten after 5 idle lifetimes")
	}
	if e.knownClient(t, looked) {
		t.Error("a client only looked up (unauthenticated) outlived its idle lifetime")
	}
}

// TestRegistrationNotHeldByRefreshingInsider: the insider of
// TestRegistrationLockoutByOneUser who also refreshes with every client
// once per idle period cannot hold the registry either: one subject's
// uses protect at most Registration.MaxPerSubject clients, the older ones
// are evictable again, and a new host can register. Before the per-subject
// cap, every refreshed client stayed protected and registration answered
// 503 for as long as the insider kept refreshing.
func TestRegistrationNotHeldByRefreshingInsider(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) {
		r.MaxBytes = 16 << 10
		r.IdleLifetime = 3 * 24 * time.Hour
		r.MaxPerSubject = 4
		r.PerSource = authserver.Limit{PerSecond: 1000, Burst: 1000}
		r.Global = authserver.Limit{PerSecond: 1000, Burst: 1000}
	}))
	body := `{"redirect_uris":["` + brRedirect + `"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"client_name":"x"}`
	refresh := map[string]string{}
	for i := 0; i < 60; i++ {
		status, out, _ := e.register(t, fmt.Sprintf("insider-%d", i), "application/json", body)
		if status == http.StatusServiceUnavailable {
			break
		}
		if status != http.StatusCreated {
			t.Fatalf("register %d: %d %v", i, status, out)
		}
		id := out["client_id"].(string)
		v, ch := pkcePair()
		loc := e.login(t, e.browser(), e.authzParams(id, brRedirect, ch))
		f := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {brRedirect},
			"code_verifier": {v}, "client_id": {id}, "resource": {e2eMCP}}
		st, tok, _ := e.token(t, f, false)
		if st != http.StatusOK {
			t.Fatalf("token %d: %d %v", i, st, tok)
		}
		refresh[id] = tok["refresh_token"].(string)
	}
	for day := 0; day < 6; day++ {
		e.clock.Add(20 * time.Hour)
		for id, rt := range refresh {
			if st, out, _ := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}}, false); st == http.StatusOK {
				refresh[id] = out["refresh_token"].(string)
			}
		}
	}
	if status, out, _ := e.register(t, "victim", "application/json", body); status != http.StatusCreated {
		t.Fatalf("a new host cannot register while one user refreshes %d clients: %d %v", len(refresh), status, out)
	}
}
