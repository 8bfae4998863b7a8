package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func basicCreds() Credentials {
	return Credentials{ClientID: "cc-client", ClientSecret: "cc-secret"}
}

func TestDiscoveryAndClientCredentials(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t, bearerOK(3600))
	rs := newFakeRS(t, as.srv.URL)
	a := mustNew(t, Config{ServerURL: rs.url(), Grant: mustCC(t, basicCreds())})
	resp := doGet(t, a.HTTPClient(nil), rs.url())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	reqs := as.rec.all()
	if len(reqs) != 1 {
		t.Fatalf("token requests = %d, want 1", len(reqs))
	}
	f := reqs[0].Form
	if f.Get("grant_type") != "client_credentials" || f.Get("resource") != rs.url() || f.Has("scope") || f.Has("client_secret") {
		t.Errorf("form = %v", f)
	}
	user, pass, ok := (&http.Request{Header: reqs[0].Header}).BasicAuth()
	if !ok || user != "cc-client" || pass != "cc-secret" {
		t.Errorf("basic auth = %q %q %v", user, pass, ok)
	}
	d := a.Discovery()
	if d == nil || d.Resource != rs.url() || d.AuthServer.Issuer != as.srv.URL {
		t.Errorf("discovery = %+v", d)
	}
	// Second request reuses the cached token.
	doGet(t, a.HTTPClient(nil), rs.url())
	if n := len(as.rec.all()); n != 1 {
		t.Errorf("token requests after reuse = %d", n)
	}
}

func TestDiscoveryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(as *fakeAS, rs *fakeRS)
		cfg     func(c *Config)
		wantErr error
	}{
		{
			name: "PRM resource mismatch",
			setup: func(as *fakeAS, rs *fakeRS) {
				rs.prm = func(string) any {
					return map[string]any{"resource": rs.srv.URL + "/other", "authorization_servers": []string{as.srv.URL}}
				}
			},
			wantErr: ErrResourceMismatch,
		},
		{
			name:    "AS issuer mismatch",
			setup:   func(as *fakeAS, rs *fakeRS) { as.issuer = as.srv.URL + "/" },
			wantErr: ErrIssuerMismatch,
		},
		// The strings a server chose (up to MaxResponseBytes each) are
		// cut to a log field in the error the caller logs.
		{
			name: "huge PRM resource",
			setup: func(as *fakeAS, rs *fakeRS) {
				rs.prm = func(string) any {
					return map[string]any{"resource": rs.url() + "/" + strings.Repeat("r", 100<<10), "authorization_servers": []string{as.srv.URL}}
				}
			},
			wantErr: ErrResourceMismatch,
		},
		{
			name:    "huge AS issuer",
			setup:   func(as *fakeAS, rs *fakeRS) { as.issuer = as.srv.URL + "/" + strings.Repeat("i", 100<<10) },
			wantErr: ErrIssuerMismatch,
		},
		{
			name: "huge AS token_endpoint",
			setup: func(as *fakeAS, rs *fakeRS) {
				as.meta["token_endpoint"] = "http://as.example.com/" + strings.Repeat("t", 100<<10)
			},
			wantErr: ErrInsecureURL,
		},
		{
			name: "huge authorization_servers, pinned issuer",
			setup: func(as *fakeAS, rs *fakeRS) {
				rs.prm = func(string) any {
					return map[string]any{"resource": rs.url(), "authorization_servers": []string{as.srv.URL + "/" + strings.Repeat("a", 100<<10)}}
				}
			},
			cfg: func(c *Config) {
				c.Grant = mustCCNoT(Credentials{ClientID: "x", ClientSecret: "y", Issuer: "https://other.example"})
			},
			wantErr: ErrIssuerBinding,
		},
		{
			name: "PRM without authorization servers",
			setup: func(as *fakeAS, rs *fakeRS) {
				rs.prm = func(string) any { return map[string]any{"resource": rs.url(), "authorization_servers": []string{}} }
			},
			wantErr: ErrDiscovery,
		},
		{
			name: "PRM with duplicate keys",
			setup: func(as *fakeAS, rs *fakeRS) {
				rs.prm = func(string) any {
					return jsonRaw(`{"resource":"` + rs.url() + `","resource":"x","authorization_servers":["` + as.srv.URL + `"]}`)
				}
			},
			wantErr: ErrDiscovery,
		},
		{
			name:    "PRM missing",
			setup:   func(as *fakeAS, rs *fakeRS) { rs.prm = func(string) any { return nil } },
			wantErr: ErrDiscovery,
		},
		{
			name: "root PRM names the origin (strict)",
			setup: func(as *fakeAS, rs *fakeRS) {
				rs.inHeader = false
				rs.prm = func(p string) any {
					if p != wellKnownPRM {
						return nil
					}
					return map[string]any{"resource": rs.srv.URL, "authorization_servers": []string{as.srv.URL}}
				}
			},
			wantErr: ErrResourceMismatch,
		},
		{
			name:    "insecure AS on non-loopback host",
			setup:   func(as *fakeAS, rs *fakeRS) { rs.prm = prmWithAS(rs, "http://as.example.com") },
			wantErr: ErrInsecureURL,
		},
		{
			name:  "pinned issuer not listed",
			setup: func(as *fakeAS, rs *fakeRS) {},
			cfg: func(c *Config) {
				c.Grant = mustCCNoT(Credentials{ClientID: "x", ClientSecret: "y", Issuer: "https://other.example"})
			},
			wantErr: ErrIssuerBinding,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t, bearerOK(3600))
			rs := newFakeRS(t, as.srv.URL)
			tc.setup(as, rs)
			cfg := Config{ServerURL: rs.url(), Grant: mustCC(t, basicCreds())}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			a := mustNew(t, cfg)
			_, err := a.HTTPClient(nil).Get(rs.url())
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %.300v, want %v", err, tc.wantErr)
			}
			if n := len(err.Error()); n > 4<<10 {
				t.Errorf("error of %d bytes: %.300s", n, err)
			}
			if n := len(as.rec.all()); n != 0 {
				t.Errorf("token endpoint called %d times after a discovery failure", n)
			}
		})
	}
}

func TestWellKnownFallbackWithoutResourceMetadata(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t, bearerOK(3600))
	rs := newFakeRS(t, as.srv.URL)
	rs.inHeader = false
	a := mustNew(t, Config{ServerURL: rs.url(), Grant: mustCC(t, basicCreds())})
	if resp := doGet(t, a.HTTPClient(nil), rs.url()); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var prmPaths []string
	for _, p := range rs.rec.paths() {
		if strings.HasPrefix(p, wellKnownPRM) {
			prmPaths = append(prmPaths, p)
		}
	}
	if want := []string{wellKnownPRM + "/mcp"}; !slices.Equal(prmPaths, want) {
		t.Errorf("PRM requests %v, want %v", prmPaths, want)
	}
}

func TestRootPRMFallback(t *testing.T) {
	t.Parallel()
	for _, tolerant := range []bool{false, true} {
		as := newFakeAS(t, bearerOK(3600))
		rs := newFakeRS(t, as.srv.URL)
		rs.inHeader = false
		rs.prm = func(p string) any {
			if p != wellKnownPRM {
				return nil
			}
			return map[string]any{"resource": rs.srv.URL + "/", "authorization_servers": []string{as.srv.URL}}
		}
		a := mustNew(t, Config{ServerURL: rs.url(), Grant: mustCC(t, basicCreds()), AllowRootResourceSameOrigin: tolerant})
		err := a.Authorize(context.Background())
		if tolerant && err != nil {
			t.Errorf("tolerant: %v", err)
		}
		if !tolerant && !errors.Is(err, ErrResourceMismatch) {
			t.Errorf("strict: err = %v", err)
		}
		if got, want := rs.rec.paths(), []string{wellKnownPRM + "/mcp", wellKnownPRM}; !slices.Equal(got, want) {
			t.Errorf("tolerant=%v: PRM requests %v, want %v", tolerant, got, want)
		}
		if tolerant {
			if f := as.rec.all()[0].Form; f.Get("resource") != rs.srv.URL+"/" {
				t.Errorf("resource = %q, want the PRM resource", f.Get("resource"))
			}
		}
	}
}

func TestAuthServerMetadataURLOrder(t *testing.T) {
	t.Parallel()
	var hits []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		if r.URL.Path == "/tenant/.well-known/openid-configuration" {
			writeJSON(w, 200, map[string]any{"issuer": srv.URL + "/tenant", "token_endpoint": srv.URL + "/tenant/token"})
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	m, err := fetchAuthServerMetadata(context.Background(), srv.Client(), srv.URL+"/tenant", false, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{wellKnownOAuth + "/tenant", wellKnownOIDC + "/tenant", "/tenant" + wellKnownOIDC}
	if !slices.Equal(hits, want) || m.TokenEndpoint != srv.URL+"/tenant/token" {
		t.Errorf("hits %v, want %v (metadata %+v)", hits, want, m)
	}
}

func TestCredentialsNotSentToForeignIssuer(t *testing.T) {
	t.Parallel()
	asA := newFakeAS(t, bearerOK(3600))
	asB := newFakeAS(t, bearerOK(3600))
	rsA := newFakeRS(t, asA.srv.URL)
	rsB := newFakeRS(t, asB.srv.URL)
	grant := mustCC(t, basicCreds()) // binds on first use
	if err := mustNew(t, Config{ServerURL: rsA.url(), Grant: grant}).Authorize(context.Background()); err != nil {
		t.Fatal(err)
	}
	if grant.BoundIssuer() != asA.srv.URL {
		t.Fatalf("bound to %q", grant.BoundIssuer())
	}
	err := mustNew(t, Config{ServerURL: rsB.url(), Grant: grant}).Authorize(context.Background())
	if !errors.Is(err, ErrIssuerBinding) {
		t.Fatalf("err = %v, want ErrIssuerBinding", err)
	}
	if n := len(asB.rec.all()); n != 0 {
		t.Errorf("foreign token endpoint received %d requests", n)
	}
	// Direct use of the grant with foreign metadata is refused too.
	_, err = grant.FetchToken(context.Background(), &TokenRequest{
		AuthServer: &AuthServerMetadata{Issuer: asB.srv.URL, TokenEndpoint: asB.srv.URL + "/token"}, Resource: rsB.url()})
	if !errors.Is(err, ErrIssuerBinding) || len(asB.rec.all()) != 0 {
		t.Errorf("FetchToken: err = %v, requests %d", err, len(asB.rec.all()))
	}
}

type jsonRaw string

func (j jsonRaw) MarshalJSON() ([]byte, error) { return []byte(j), nil }

func prmWithAS(rs *fakeRS, as string) func(string) any {
	return func(string) any { return map[string]any{"resource": rs.url(), "authorization_servers": []string{as}} }
}

func mustCCNoT(c Credentials) *ClientCredentials {
	g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: c})
	if err != nil {
		panic(err)
	}
	return g
}
