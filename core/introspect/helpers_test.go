package introspect

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func newClock() *testkit.Clock { return testkit.NewClock(time.Unix(1767225600, 0)) }

// fakeAS is an introspection endpoint whose answer per token is set by the
// test. It counts the requests it serves and records the last one.
type fakeAS struct {
	mu      sync.Mutex
	answers map[string]answer
	calls   atomic.Int64
	last    *http.Request
	form    url.Values
	gate    chan struct{} // when non-nil, each request waits for it to be closed
	arrived chan struct{} // when non-nil, receives one value per request as it arrives
}

type answer struct {
	status int    // default 200
	ctype  string // default application/json
	body   string
}

func newFakeAS() *fakeAS { return &fakeAS{answers: map[string]answer{}} }

func (f *fakeAS) set(token string, a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[token] = a
}

func (f *fakeAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	f.mu.Lock()
	gate, arrived := f.gate, f.arrived
	f.mu.Unlock()
	if arrived != nil {
		arrived <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	b, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(b))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.last, f.form = r, form
	a, ok := f.answers[form.Get("token")]
	f.mu.Unlock()
	if !ok {
		a = answer{body: `{"active":false}`}
	}
	if a.ctype == "" {
		a.ctype = "application/json"
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	w.Header().Set("Content-Type", a.ctype)
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// server starts f on loopback for the duration of the test.
func (f *fakeAS) server(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

// roundTripperFunc serves requests in memory (used inside synctest bubbles,
// where real sockets would not count as durably blocked).
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func inMemoryClient(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}
}

const (
	testIss = "https://as.example.com"
	testAud = "https://mcp.example.com/mcp"
)

func baseConfig(endpoint string, clk *testkit.Clock) Config {
	return Config{
		Endpoint:     endpoint,
		ClientID:     "rs:1",
		ClientSecret: "s3cr et&=",
		Issuer:       testIss,
		Audience:     []string{testAud},
		Now:          clk.Now,
	}
}
