package introspect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
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

// TestRejectionTextBounded: a negative entry keeps the rejection's error
// and the verifier logs it. Values the response chose (iss, token_type,
// aud), up to MaxResponseBytes (64 KiB), went into its text whole: 10,000
// cached rejections (MaxEntries) could hold about 600 MiB while
// accounting 5 MiB of the 32 MiB MaxBytes. 5a21393 cut each value to
// maxErrValue bytes before quoting it, but a control character is one
// byte and four once quoted: iss "\x01"×2048 gave a 911-byte quote in an
// entry charged 512 bytes in all. The quoted text is now cut, and the
// entry is charged its text.
func TestRejectionTextBounded(t *testing.T) {
	t.Parallel()
	values := []struct {
		name, json  string
		unavailable bool // refused by the strict parser: no claim check, nothing cached
	}{
		{"ascii", strings.Repeat("a", 30<<10), false},
		{"control chars", strings.Repeat(`\u0001`, 2048), false},
		{"C1 controls", strings.Repeat(`\u0085`, 2048), false},
		{"4-byte runes", strings.Repeat("😀", 4096), false},
		{"quotes and backslashes", strings.Repeat(`\"\\`, 2048), false},
		{"invalid UTF-8", strings.Repeat("\xff", 2048), true},
		{"lone surrogates", strings.Repeat(`\udc00`, 2048), true},
	}
	fields := []struct {
		name  string
		body  func(v string) string
		quote int // the bound on the quoted value
	}{
		{"iss", func(v string) string { return `{"active":true,"aud":"` + testAud + `","iss":"` + v + `"}` }, maxErrValue},
		{"token_type", func(v string) string { return `{"active":true,"aud":"` + testAud + `","token_type":"` + v + `"}` }, 64},
		{"token_use", func(v string) string { return `{"active":true,"aud":"` + testAud + `","token_use":"` + v + `"}` }, 64},
		{"aud", func(v string) string { return `{"active":true,"aud":["` + v + `","` + v + `"]}` }, maxErrValue},
	}
	as := newFakeAS()
	srv := as.server(t)
	for i, f := range fields {
		for j, val := range values {
			tok := fmt.Sprintf("tok-%d-%d", i, j)
			as.set(tok, answer{body: f.body(val.json)})
			t.Run(f.name+"/"+val.name, func(t *testing.T) {
				t.Parallel()
				v, err := New(baseConfig(srv.URL, newClock()))
				if err != nil {
					t.Fatal(err)
				}
				_, err = v.Verify(context.Background(), tok)
				if err == nil {
					t.Fatal("accepted")
				}
				if unavailable := errors.Is(err, core.ErrUnavailable); unavailable != val.unavailable {
					t.Fatalf("unavailable %v (%.200v), want %v", unavailable, err, val.unavailable)
				}
				if val.unavailable {
					if n := v.cacheLen(); n != 0 {
						t.Fatalf("%d entries cached for a response the parser refused", n)
					}
					return
				}
				text := err.Error()
				if n := len(text); n > f.quote+64 {
					t.Errorf("rejection text of %d bytes, want at most %d: %.100s", n, f.quote+64, text)
				}
				if charged := v.cache.Bytes() - entryOverhead; charged < int64(len(text)) {
					t.Errorf("negative entry charged %d bytes besides its overhead, its text holds %d", charged, len(text))
				}
				if _, again := v.Verify(context.Background(), tok); again == nil || again.Error() != text {
					t.Errorf("cached rejection %v, want %v", again, err)
				}
			})
		}
	}
}

// TestContentTypeTextBounded: the Content-Type of an answer that is not
// JSON went into the error text whole (%q), bounded only by the client's
// response header limit (net/http's 10 MB by default); the verifier logs
// that error.
func TestContentTypeTextBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, ctype string }{
		{"long", "text/html; x=" + strings.Repeat("a", 32<<10)},
		{"escaped", "text/html; x=" + strings.Repeat(`"\`, 16<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS()
			as.set("tok", answer{ctype: tc.ctype, body: `{"active":true}`})
			v, err := New(baseConfig(as.server(t).URL, newClock()))
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), "tok")
			if !errors.Is(err, core.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if n := len(err.Error()); n > maxErrValue+128 {
				t.Errorf("error text of %d bytes, want at most %d: %.160s", n, maxErrValue+128, err)
			}
		})
	}
}

// TestActiveLogLineBounded: the Debug line of an active token names its
// sub, client_id and jti, values of the response (up to MaxResponseBytes):
// they went in whole.
func TestActiveLogLineBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 16<<10)
	as := newFakeAS()
	as.set("tok", answer{body: `{"active":true,"aud":"` + testAud + `","sub":"` + long + `","client_id":"` + long + `","jti":"` + long + `"}`})
	var buf testkit.Buffer
	cfg := baseConfig(as.server(t).URL, newClock())
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), "tok"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "token active") {
		t.Fatalf("no Debug line for the active token:\n%.500s", out)
	}
	testkit.LinesWithin(t, out, 4*core.MaxLogField+256)
}
