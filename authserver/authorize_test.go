package authserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func TestAuthorizeStub(t *testing.T) {
	t.Parallel()
	for _, omit := range []bool{false, true} {
		cfg := baseConfig(t, testkit.NewClock(time.Unix(1_800_000_000, 0)))
		cfg.OmitAuthorizationEndpoint = omit
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var md map[string]any
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/oauth-authorization-server", nil))
		if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil {
			t.Fatal(err)
		}
		_, advertised := md["authorization_endpoint"]
		if advertised == omit {
			t.Fatalf("omit=%v: authorization_endpoint advertised=%v", omit, advertised)
		}
		if _, ok := md["code_challenge_methods_supported"]; ok {
			t.Fatal("PKCE must not be advertised: there is no code flow")
		}
		if rt, _ := md["response_types_supported"].([]any); len(rt) != 0 {
			t.Fatalf("response_types_supported = %v, want []", rt)
		}
		for _, tc := range []struct{ method, query string }{
			{http.MethodGet, "?response_type=code&client_id=x&redirect_uri=https://evil.example/cb&state=s"},
			{http.MethodPost, ""},
			{http.MethodPut, ""},
		} {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(tc.method, "/authorize"+tc.query, strings.NewReader("")))
			want := http.StatusBadRequest
			switch {
			case omit:
				want = http.StatusNotFound
			case tc.method == http.MethodPut:
				want = http.StatusMethodNotAllowed
			}
			if rec.Code != want {
				t.Fatalf("omit=%v %s /authorize: status %d, want %d", omit, tc.method, rec.Code, want)
			}
			if loc := rec.Header().Get("Location"); loc != "" {
				t.Fatalf("the stub must never redirect, got Location %q", loc)
			}
			if want == http.StatusBadRequest && !strings.Contains(rec.Body.String(), `"error":"unsupported_response_type"`) {
				t.Fatalf("body %s", rec.Body)
			}
		}
	}
}
