package redisstore

import (
	"strings"
	"testing"
	"time"
)

func TestParseFileOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   map[string]any
		replay bool
		want   string // error text; "" = parses
	}{
		{"url only", map[string]any{"url": "redis://127.0.0.1:6379/0"}, false, ""},
		{"all", map[string]any{"url": "rediss://u:p@r:6380/1", "prefix": "{acme}:", "timeout": "250ms", "quarantine": "10m"}, true, ""},
		{"no url", map[string]any{"prefix": "x"}, false, "stores.options.url: is required"},
		{"no options", nil, true, "stores.options.url: is required"},
		{"unknown key", map[string]any{"url": "redis://r", "addr": "r:6379"}, false, "stores.options.addr: unknown key (known: url, prefix, timeout)"},
		{"quarantine on the Guard", map[string]any{"url": "redis://r", "quarantine": "1m"}, false, "stores.options.quarantine: unknown key"},
		{"number", map[string]any{"url": "redis://r", "timeout": 1}, false, "stores.options.timeout: must be a string"},
		{"bad duration", map[string]any{"url": "redis://r", "timeout": "soon"}, false, "positive duration"},
		{"zero duration", map[string]any{"url": "redis://r", "timeout": "0s"}, false, "positive duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseFileOptions(tc.opts, tc.replay)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "all" && (o.Timeout != 250*time.Millisecond || o.Quarantine != 10*time.Minute || o.Prefix != "{acme}:") {
				t.Fatalf("%+v", o)
			}
		})
	}
	// A URL go-redis cannot parse fails the factory, naming the key.
	if _, err := GuardSessions(t.Context(), map[string]any{"url": "http://r:6379"}, nil); err == nil || !strings.Contains(err.Error(), "stores.options.url") {
		t.Fatalf("bad scheme: %v", err)
	}
}
