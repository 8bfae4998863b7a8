package authserver_test

import (
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestMetadataDocumentHostileServers: a document server that drips its
// body past the timeout, sends a gzip body (a bomb would never be
// inflated), or huge headers is refused within the fetch timeout; URLs
// with user info, decimal IPv4 hosts or IPv6 zone ids are refused before
// or at the dial-time address check.
func TestMetadataDocumentHostileServers(t *testing.T) {
	var base string
	doc := func(p string) []byte {
		return []byte(`{"client_id":"` + base + p + `","redirect_uris":["http://127.0.0.1/callback"]}`)
	}
	gz := sync.OnceValue(func() []byte { // built once: compressing is slow under -race
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(doc("/gzip.json"))
		_, _ = zw.Write(bytes.Repeat([]byte(" "), 1<<20)) // inflates to 1 MiB
		_ = zw.Close()
		return buf.Bytes()
	})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/drip.json":
			w.WriteHeader(http.StatusOK)
			for _, b := range doc(r.URL.Path) {
				if _, err := w.Write([]byte{b}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		case "/gzip.json":
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz())
		case "/headers.json":
			for i := range 40 {
				w.Header().Set("X-Pad-"+string(rune('a'+i%26))+strings.Repeat("p", i), strings.Repeat("x", 1000))
			}
			_, _ = w.Write(doc(r.URL.Path))
		default:
			_, _ = w.Write(doc(r.URL.Path))
		}
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	_ = gz()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	// The drip needs the short fetch timeout; the other refusals do not
	// depend on it, and on a loaded machine a TLS handshake and a 1 MiB
	// gzip body under -race can take longer than 500 ms: they run with a
	// patient one, so that each is refused for its own reason.
	const short, patient = 500 * time.Millisecond, 10 * time.Second
	env := func(loopback bool, timeout time.Duration) *brokerEnv {
		return newBrokerEnv(t, func(c *authserver.Config) {
			m := &authserver.ClientMetadataDocuments{RootCAs: pool, Timeout: timeout,
				FetchLimitPerSource: authserver.Limit{PerSecond: 100, Burst: 1000}}
			if loopback {
				m.AllowNetworks = []string{"127.0.0.1/32"}
			}
			c.ClientMetadataDocuments = m
		})
	}
	open, openPatient, strict := env(true, short), env(true, patient), env(false, short)
	if status, page := openPatient.authorizePage(t, srv.URL+"/ok.json"); status != http.StatusFound {
		t.Fatalf("control document refused: %d %s", status, page)
	}
	for _, tc := range []struct {
		name string
		e    *brokerEnv
		id   string
		want string
	}{
		// the body read either fails with the deadline or ends short
		{"slow drip body", open, srv.URL + "/drip.json", "timed out|not a strict JSON object"},
		{"gzip body", openPatient, srv.URL + "/gzip.json", "not a strict JSON object"},
		{"huge headers", openPatient, srv.URL + "/headers.json", "fetch failed"},
		{"user info", open, "https://u@127.0.0.1:" + port + "/ok.json", "no user info"},
		{"user info host trick", open, "https://127.0.0.1:" + port + "@evil.example/ok.json", "no user info"},
		{"decimal IPv4 host", strict, "https://2130706433:" + port + "/ok.json", "fetch"},
		{"hex IPv4 host", strict, "https://0x7f000001:" + port + "/ok.json", "fetch"},
		{"IPv6 zone id", strict, "https://[fe80::1%25lo]:" + port + "/ok.json", "cannot be used"},
		{"IPv4-mapped loopback", strict, "https://[::ffff:127.0.0.1]:" + port + "/ok.json", "is not public"},
		{"loopback", strict, srv.URL + "/ok.json", "is not public"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			status, page := tc.e.authorizePage(t, tc.id)
			found := false
			for _, w := range strings.Split(tc.want, "|") {
				found = found || strings.Contains(page, w)
			}
			if status != http.StatusBadRequest || !found {
				t.Fatalf("got %d, want 400 with %q: %s", status, tc.want, page)
			}
			timeout := short
			if tc.e == openPatient {
				timeout = patient
			}
			if d := time.Since(start); d > timeout+2500*time.Millisecond {
				t.Fatalf("refusal took %s (timeout %v)", d, timeout)
			}
		})
	}
}
