package fibermcp_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestNoCrossRequestIdentity: many clients with different tokens (and
// refused requests in between) share the pooled request states and the
// interned Authorization values; every request must run with its own
// token and principal, in native handlers and behind Handler.
func TestNoCrossRequestIdentity(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	grp := app.Group("/api", fibermcp.New(g))
	grp.Post("/native", func(c *fiber.Ctx) error {
		p, ok := fibermcp.PrincipalFrom(c)
		q, ok2 := core.PrincipalFromContext(c.UserContext())
		if !ok || !ok2 || p != q {
			return c.SendString("missing")
		}
		return c.SendString(p.Subject + "|" + c.Get("Authorization"))
	})
	grp.Post("/http", fibermcp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := core.PrincipalFromContext(r.Context())
		if !ok {
			_, _ = io.WriteString(w, "missing")
			return
		}
		_, _ = io.WriteString(w, p.Subject+"|"+r.Header.Get("Authorization"))
	})))
	base := serve(t, app)
	users := []string{"alice", "bob", "carol", "dave"}
	tokens := make([]string, len(users))
	for i, u := range users {
		tokens[i] = idp.Token(resource, u)
	}
	body := coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)
	const workers, rounds = 6, 30
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			defer hc.CloseIdleConnections()
			for i := range rounds {
				u := (w + i) % len(users)
				path := []string{"/api/native", "/api/http"}[i%2]
				tok := tokens[u]
				if i%5 == 4 {
					tok = tokens[u][:len(tokens[u])-3] + "AAA" // refused: bad signature
				}
				req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := users[u] + "|Bearer " + tok
				if i%5 == 4 {
					if resp.StatusCode != http.StatusUnauthorized {
						errs <- fmt.Errorf("forged token: status %d body %s", resp.StatusCode, b)
					}
					continue
				}
				if resp.StatusCode != 200 || string(b) != want {
					errs <- fmt.Errorf("%s as %s: status %d, got %.40q", path, users[u], resp.StatusCode, b)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// bridge runs h behind Handler (no guard: the principal is not needed to
// observe the response) and returns the raw response.
func bridge(t *testing.T, h http.HandlerFunc) *http.Response {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/x", withPrincipal, fibermcp.Handler(h))
	// SDKHandler refuses requests without a principal only for the go-sdk;
	// a plain handler runs.
	resp, err := app.Test(httptestRequest(), 5000)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func httptestRequest() *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://example.test/x", nil)
	r.Header.Set("Authorization", "Bearer x") // the go-sdk's check wants one; the principal is withPrincipal's
	return r
}

// withPrincipal stands in for New: Handler only needs a principal in the
// user context.
func withPrincipal(c *fiber.Ctx) error {
	c.SetUserContext(core.WithPrincipal(c.UserContext(), &core.Principal{Subject: "alice"}))
	return c.Next()
}

// TestHandlerResponseSemantics: the bridge follows net/http's
// ResponseWriter rules for what reaches the client.
func TestHandlerResponseSemantics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		h      http.HandlerFunc
		status int
		header map[string][]string // want exactly these values
		body   string
	}{
		{"write without WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-A", "1")
			_, _ = io.WriteString(w, "hi")
		}, 200, map[string][]string{"X-A": {"1"}}, "hi"},
		{"WriteHeader twice keeps the first", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "x")
		}, 201, nil, "x"},
		{"header after WriteHeader is not sent", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Before", "1")
			w.WriteHeader(http.StatusAccepted)
			w.Header().Set("X-After", "1")
		}, 202, map[string][]string{"X-Before": {"1"}, "X-After": nil}, ""},
		{"header after first Write is not sent", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "a")
			w.Header().Set("X-After", "1")
		}, 200, map[string][]string{"X-After": nil}, "a"},
		{"1xx is skipped", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, 204, nil, ""},
		{"multiple values", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Multi", "a")
			w.Header().Add("X-Multi", "b")
			w.Header().Add("Vary", "Origin")
			w.Header().Add("Vary", "Accept")
		}, 200, map[string][]string{"X-Multi": {"a", "b"}, "Vary": {"Origin", "Accept"}}, ""},
		{"several cookies", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "a=1; Path=/")
			w.Header().Add("Set-Cookie", "b=2; Path=/")
		}, 200, map[string][]string{"Set-Cookie": {"a=1; Path=/", "b=2; Path=/"}}, ""},
		{"trailers are dropped", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-T")
			w.Header().Set(http.TrailerPrefix+"X-U", "u")
			_, _ = io.WriteString(w, "a")
			w.Header().Set("X-T", "t")
		}, 200, map[string][]string{"Trailer": nil, "X-T": nil, "X-U": nil, http.TrailerPrefix + "X-U": nil}, "a"},
		{"handler Content-Length ignored for a buffered body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "99")
			_, _ = io.WriteString(w, "abc")
		}, 200, map[string][]string{"Content-Length": {"3"}}, "abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := bridge(t, tc.h)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(b) != tc.body {
				t.Errorf("status %d body %q, want %d %q", resp.StatusCode, b, tc.status, tc.body)
			}
			if len(resp.Trailer) != 0 {
				t.Errorf("trailer %v, want none", resp.Trailer)
			}
			for k, want := range tc.header {
				got := resp.Header.Values(k)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestHandlerStreamsEndWhenClientLeaves: streams whose client disconnects
// end (handler context cancelled, handler returned), and the server
// shutdown ends the ones still open; no goroutine is left behind.
func TestHandlerStreamsEndWhenClientLeaves(t *testing.T) {
	ended := make(chan string, 16)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/tick", withPrincipal, fibermcp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { ended <- "tick" }()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tk.C:
				if _, err := io.WriteString(w, "data: x\n\n"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}
	})))
	app.Get("/quiet", withPrincipal, fibermcp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { ended <- "quiet" }()
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, ": open\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a GET stream with nothing to send
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = app.Listener(ln) }()
	open := func(path string) {
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n", path)
		br := bufio.NewReader(conn)
		if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("%s: %q %v", path, line, err)
		}
		for { // up to the first event line
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if strings.HasPrefix(line, "data:") || strings.HasPrefix(line, ": open") {
				break
			}
		}
		conn.Close()
	}
	for range 3 {
		open("/tick")
	}
	for range 3 {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatal("a ticking stream did not end after its client left")
		}
	}
	for range 2 {
		open("/quiet")
	}
	if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
		t.Logf("shutdown: %v", err)
	}
	<-done
	for range 2 {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatal("a quiet stream did not end at shutdown")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for leftovers() != "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := leftovers(); s != "" {
		t.Errorf("goroutines left by the bridge:\n%s", s)
	}
}

// leftovers returns the stacks of goroutines still running code of this
// package: the bridge's or a stream handler's.
func leftovers() string {
	buf := make([]byte, 1<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "adapters/fiber.Handler") || strings.Contains(g, "TestHandlerStreamsEndWhenClientLeaves.func") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
