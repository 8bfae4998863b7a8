package introspect

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestCacheBoundedInBytes: active answers can be up to MaxResponseBytes
// each, so a cache bounded only by MaxEntries (10,000) could hold 640 MiB
// of claims. With MaxBytes the accounted size stays under the bound, the
// most recent answers are kept and the oldest are evicted (introspected
// again); an answer larger than the whole bound is used but not kept.
func TestCacheBoundedInBytes(t *testing.T) {
	pad := strings.Repeat("g", 4000)
	body := func(i int) string {
		return fmt.Sprintf(`{"active":true,"aud":"https://mcp.example.com/mcp","sub":"u%d","pad":%q}`, i, pad)
	}
	tests := []struct {
		name       string
		maxBytes   int64
		tokens     int
		wantAll    bool // every answer stays cached
		wantEvicts bool
	}{
		{name: "default bound holds them all", maxBytes: 0, tokens: 100, wantAll: true},
		{name: "64 KiB bound", maxBytes: 64 << 10, tokens: 100, wantEvicts: true},
		{name: "bound smaller than one answer", maxBytes: 2 << 10, tokens: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := newFakeAS()
			for i := range tc.tokens {
				as.set(fmt.Sprintf("tok-%03d", i), answer{body: body(i)})
			}
			clk := newClock()
			cfg := baseConfig(as.server(t).URL, clk)
			cfg.MaxBytes = tc.maxBytes
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.tokens {
				c, err := v.Verify(context.Background(), fmt.Sprintf("tok-%03d", i))
				if err != nil || c.Subject != fmt.Sprintf("u%d", i) {
					t.Fatalf("token %d: %v %v", i, c, err)
				}
			}
			bound := tc.maxBytes
			if bound == 0 {
				bound = DefaultMaxBytes
			}
			if got := v.cache.Bytes(); got > bound {
				t.Errorf("cache holds %d accounted bytes, bound %d", got, bound)
			}
			n := v.cacheLen()
			switch {
			case tc.wantAll && n != tc.tokens:
				t.Errorf("%d answers cached, want all %d", n, tc.tokens)
			case tc.wantEvicts && (n == 0 || n >= tc.tokens):
				t.Errorf("%d answers cached, want some but not all of %d", n, tc.tokens)
			case !tc.wantAll && !tc.wantEvicts && n != 0:
				t.Errorf("%d answers cached, want none (each is larger than the bound)", n)
			}
			// The newest answer is served from the cache; the oldest,
			// when evicted, is introspected again.
			calls := as.calls.Load()
			if _, err := v.Verify(context.Background(), fmt.Sprintf("tok-%03d", tc.tokens-1)); err != nil {
				t.Fatal(err)
			}
			newestCached := as.calls.Load() == calls
			if _, err := v.Verify(context.Background(), "tok-000"); err != nil {
				t.Fatal(err)
			}
			oldestCached := as.calls.Load() == calls
			if tc.wantAll != oldestCached || (n > 0) != newestCached {
				t.Errorf("newest cached %v, oldest cached %v (cached answers %d)", newestCached, oldestCached, n)
			}
		})
	}
}

// TestRejectionTextBounded: a negative entry keeps the rejection's error,
// charged as entryOverhead (512 bytes), and the verifier logs it. Values
// the response chose (iss, token_type, aud), up to MaxResponseBytes (64
// KiB), went into its text whole: 10,000 cached rejections (MaxEntries)
// could hold about 600 MiB while accounting 5 MiB of the 32 MiB
// MaxBytes. Each value is now cut to maxErrValue.
func TestRejectionTextBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("a", 30<<10)
	as := newFakeAS()
	srv := as.server(t)
	cases := []struct{ name, body string }{
		{"iss", fmt.Sprintf(`{"active":true,"aud":%q,"iss":%q}`, testAud, huge)},
		{"token_type", fmt.Sprintf(`{"active":true,"aud":%q,"token_type":%q}`, testAud, huge)},
		{"aud", fmt.Sprintf(`{"active":true,"aud":[%q,%q]}`, huge, huge)},
	}
	for _, tc := range cases {
		as.set("tok-"+tc.name, answer{body: tc.body})
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := New(baseConfig(srv.URL, newClock()))
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), "tok-"+tc.name)
			if err == nil {
				t.Fatal("accepted")
			}
			if n := len(err.Error()); n > 1024 {
				t.Errorf("rejection text of %d bytes, want at most 1024", n)
			}
			if _, again := v.Verify(context.Background(), "tok-"+tc.name); again == nil || again.Error() != err.Error() {
				t.Errorf("cached rejection %v, want %v", again, err)
			}
		})
	}
}
