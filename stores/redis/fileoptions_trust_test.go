package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestFileTrustAppendFsyncAlways: stores.options.trust_append_fsync_always
// (the authorization server's file only, a boolean, default false) sets
// the broker's refresh store's RefreshConfig.TrustAppendFsyncAlways; it is
// refused with sentinel (a master with replicas) and without a broker.
func TestFileTrustAppendFsyncAlways(t *testing.T) {
	t.Parallel()
	sentinel := map[string]any{"master": "m", "addrs": []any{"s1:26379"}}
	parse := []struct {
		name   string
		opts   map[string]any
		replay bool
		want   bool
		err    string
	}{
		{"absent", map[string]any{"url": "redis://r"}, true, false, ""},
		{"true", map[string]any{"url": "redis://r", "trust_append_fsync_always": true}, true, true, ""},
		{"false", map[string]any{"url": "redis://r", "trust_append_fsync_always": false}, true, false, ""},
		{"cluster", map[string]any{"cluster": map[string]any{"addrs": []any{"n1:6379"}}, "trust_append_fsync_always": true}, true, true, ""},
		{"a string", map[string]any{"url": "redis://r", "trust_append_fsync_always": "yes"}, true, false, "stores.options.trust_append_fsync_always: must be true or false"},
		{"on the Guard", map[string]any{"url": "redis://r", "trust_append_fsync_always": true}, false, false, "stores.options.trust_append_fsync_always: unknown key"},
		{"with sentinel", map[string]any{"sentinel": sentinel, "trust_append_fsync_always": true}, true, false, "stores.options.trust_append_fsync_always: a Sentinel-managed master has replicas"},
		{"false with sentinel", map[string]any{"sentinel": sentinel, "trust_append_fsync_always": false}, true, false, ""},
	}
	for _, tc := range parse {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseFileOptions(tc.opts, tc.replay)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || o.TrustAppendFsyncAlways != tc.want {
				t.Fatalf("TrustAppendFsyncAlways %v, %v; want %v", o.TrustAppendFsyncAlways, err, tc.want)
			}
		})
	}
	srv := startRedis(t)
	install := []struct {
		name   string
		trust  any // the option's value; nil leaves it out
		broker bool
		want   string // the refresh store's trust
		err    string
	}{
		{"default", nil, true, "0", ""},
		{"on", true, true, "7200000", ""}, // the broker's absolute lifetime, in ms
		{"on without a broker", true, false, "", "stores.options.trust_append_fsync_always: applies to the broker's refresh tokens"},
	}
	for _, tc := range install {
		t.Run(tc.name, func(t *testing.T) {
			opts := map[string]any{"url": srv.URL(), "prefix": "{files-trust}:"}
			if tc.trust != nil {
				opts["trust_append_fsync_always"] = tc.trust
			}
			cfg := &authserver.Config{}
			if tc.broker {
				cfg.Broker = &authserver.Broker{RefreshAbsoluteLifetime: 2 * time.Hour}
			}
			c, err := AuthServerStores(t.Context(), opts, cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if rs, _ := cfg.Broker.RefreshStore.(*RefreshStore); rs == nil || rs.trust != tc.want {
				t.Fatalf("refresh store %+v, want trust %q", rs, tc.want)
			}
		})
	}
}
