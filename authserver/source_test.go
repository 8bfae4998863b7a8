package authserver_test

import (
	"net/http"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestRegistrationPerSourceIPv6Prefix: the registration limit per source
// keys an IPv6 source by its /64, like every per-source limit (before,
// each of a /64's addresses had its own bucket).
func TestRegistrationPerSourceIPv6Prefix(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) {
		r.PerSource = authserver.Limit{PerSecond: 0.001, Burst: 2}
		r.Global = authserver.Limit{PerSecond: 1000, Burst: 1000}
	}))
	body := `{"redirect_uris":["http://127.0.0.1/callback"],"token_endpoint_auth_method":"none","client_name":"x"}`
	for _, tc := range []struct {
		src  string
		want int
	}{
		{"2001:db8:1:2::1", http.StatusCreated},
		{"2001:db8:1:2:ffff:ffff:ffff:fffe", http.StatusCreated},
		{"2001:db8:1:2::3", http.StatusTooManyRequests}, // same /64: its bucket is empty
		{"2001:db8:1:3::1", http.StatusCreated},         // another /64
		{"203.0.113.1", http.StatusCreated},
		{"203.0.113.1", http.StatusCreated},
		{"203.0.113.1", http.StatusTooManyRequests},
		{"203.0.113.2", http.StatusCreated}, // IPv4: per address
	} {
		if status, out, _ := e.register(t, tc.src, "application/json", body); status != tc.want {
			t.Fatalf("registration from %s: %d %v, want %d", tc.src, status, out, tc.want)
		}
	}
}
