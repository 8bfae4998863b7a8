package authserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func TestSourceKey(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		addr         string
		bits4, bits6 int
		want         string
	}{
		{"203.0.113.7", 32, 64, "203.0.113.7"},
		{"203.0.113.7", 24, 64, "203.0.113.0/24"},
		{"::ffff:203.0.113.7", 32, 64, "203.0.113.7"}, // IPv4-mapped counts as IPv4
		{"::ffff:203.0.113.7", 24, 64, "203.0.113.0/24"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 32, 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", 32, 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", 32, 56, "2001:db8:1::/56"},
		{"2001:db8:1:2::1", 32, 128, "2001:db8:1:2::1"},
		{"fe80::1%eth0", 32, 64, "fe80::/64"}, // zone dropped
		{"2001:DB8:1:2::1", 32, 64, "2001:db8:1:2::/64"},
		{"insider-1", 32, 64, "insider-1"}, // a custom ClientAddress key
		{"", 32, 64, ""},
		{long, 32, 64, long[:256]},
	} {
		if got := sourceKey(tc.addr, tc.bits4, tc.bits6); got != tc.want {
			t.Errorf("sourceKey(%q, %d, %d) = %q, want %q", tc.addr, tc.bits4, tc.bits6, got, tc.want)
		}
	}
}

func fromHost(host string) func(*http.Request) {
	return func(r *http.Request) { r.RemoteAddr = net.JoinHostPort(host, "4711") }
}

// TestFailedAuthLockoutPerIPv6Prefix: failed client authentication is
// throttled per client and source /64 for IPv6 (per address for IPv4):
// an attacker holding a /64 cannot take a fresh bucket with each of its
// 2^64 addresses. Before, each IPv6 address had its own bucket (all 5
// failures below were 401). SourcePrefixIPv6/IPv4 change the prefix.
func TestFailedAuthLockoutPerIPv6Prefix(t *testing.T) {
	wrong := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, "wrong"}}
	good := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}
	for _, tc := range []struct {
		name         string
		bits4, bits6 int
		addrs        func(i int) string // the i-th attacker address
		other        string             // a source outside the attacker's prefix
		shared       bool               // the attacker's addresses share one bucket
	}{
		{"ipv6 default /64", 0, 0, func(i int) string { return fmt.Sprintf("2001:db8:1:2::%x", i+1) }, "2001:db8:1:3::1", true},
		{"ipv6 privacy addresses", 0, 0, func(i int) string { return fmt.Sprintf("2001:db8:1:2:%x:%x:%x:%x", i*7919+1, i*31+5, 0xbeef, i) }, "2001:db8:2::1", true},
		{"ipv6 /128 configured", 0, 128, func(i int) string { return fmt.Sprintf("2001:db8:1:2::%x", i+1) }, "2001:db8:1:3::1", false},
		{"ipv6 /48 configured", 0, 48, func(i int) string { return fmt.Sprintf("2001:db8:1:%x::1", i+1) }, "2001:db8:2::1", true},
		{"ipv4 default /32", 0, 0, func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }, "192.0.2.50", false},
		{"ipv4 /24 configured", 24, 0, func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }, "192.0.2.50", true},
		{"ipv4-mapped ipv6 is ipv4", 24, 0, func(i int) string { return fmt.Sprintf("::ffff:203.0.113.%d", i+1) }, "192.0.2.50", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, limited(RateLimit{FailedAuthPerSecond: 1, FailedAuthBurst: 3, SourcePrefixIPv4: tc.bits4, SourcePrefixIPv6: tc.bits6}))
			var got []int
			for i := range 5 {
				got = append(got, e.doWith(wrong, fromHost(tc.addrs(i))).Code)
			}
			want := []int{401, 401, 401, 401, 401}
			if tc.shared {
				want = []int{401, 401, 401, 429, 429}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("wrong secrets from 5 addresses: %v, want %v", got, want)
			}
			wantNext := 200
			if tc.shared {
				wantNext = 429 // the right secret from a sixth address of the prefix
			}
			if w := e.doWith(good, fromHost(tc.addrs(5))); w.Code != wantNext {
				t.Fatalf("right secret from another address of the attacker's prefix: %d, want %d", w.Code, wantNext)
			}
			if w := e.doWith(good, fromHost(tc.other)); w.Code != 200 {
				t.Fatalf("right secret from another prefix: %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestSourcePrefixConfig(t *testing.T) {
	for _, rl := range []RateLimit{{SourcePrefixIPv4: 7}, {SourcePrefixIPv4: 33}, {SourcePrefixIPv6: 15}, {SourcePrefixIPv6: 129}, {SourcePrefixIPv4: -1}} {
		cfg := baseConfig(t, testkit.NewClock(time.Unix(1_800_000_000, 0)))
		cfg.RateLimit = rl
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "source_prefix") {
			t.Errorf("%+v: %v", rl, err)
		}
	}
}
