package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/proxy"
)

// recorder is an upstream that records what reaches it and answers a
// tools/call result.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request // with the body read into bodies
	body []string
}

func (rc *recorder) server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs, rc.body = append(rc.reqs, r.Clone(r.Context())), append(rc.body, string(b))
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (rc *recorder) take() ([]*http.Request, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	r, b := rc.reqs, rc.body
	rc.reqs, rc.body = nil, nil
	return r, b
}

// TestQueryStringRefused: a query string on the MCP endpoint is not part
// of Streamable HTTP and nothing the Guard inspects; by default it is
// refused with 400 and never reaches the upstream. ForwardQuery passes it
// on for an upstream that needs it.
func TestQueryStringRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rc := &recorder{}
	up := rc.server(t)
	call := rpcBody(1, "tools/call", `{"name":"ls","arguments":{}}`)
	for _, q := range []string{"?tenant=other", "?debug=1&method=tools/call", "?access_token=x", "?%00", "?a"} {
		t.Run(q, func(t *testing.T) {
			url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
			r := send(t, f.newRequest(t, url+q, call))
			if q == "?access_token=x" { // the Guard's own refusal comes first
				if r.status != http.StatusBadRequest || !strings.Contains(r.body, "invalid_request") {
					t.Errorf("%d %s", r.status, r.body)
				}
			} else {
				wantRPCError(t, r, http.StatusBadRequest, "1")
			}
			if reqs, _ := rc.take(); len(reqs) != 0 {
				t.Errorf("the upstream got %d requests", len(reqs))
			}
		})
	}
	t.Run("forward_query", func(t *testing.T) {
		url, _ := f.front(t, up.URL+"/mcp", proxy.Config{ForwardQuery: true})
		if r := send(t, f.newRequest(t, url+"?tenant=a", call)); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		reqs, _ := rc.take()
		if len(reqs) != 1 || reqs[0].URL.RawQuery != "tenant=a" {
			t.Errorf("upstream requests %d, query %v", len(reqs), reqs)
		}
	})
	t.Run("no query", func(t *testing.T) {
		url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
		if r := send(t, f.newRequest(t, url, call)); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if reqs, _ := rc.take(); len(reqs) != 1 || reqs[0].URL.RawQuery != "" {
			t.Errorf("upstream requests %d", len(reqs))
		}
	})
}

// TestUpstreamRedirectRefused: an upstream 3xx would send the client, with
// its bearer token, to a URL the upstream chose and show the upstream's
// internal address. It is answered 502 without the Location; a Location
// (or Content-Location, Refresh) on any other answer is dropped too.
func TestUpstreamRedirectRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const internal = "http://10.1.2.3:8080/internal/admin"
	for _, status := range []int{300, 301, 302, 303, 305, 307, 308, 201, 200} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				w.Header().Set("Location", internal)
				w.Header().Set("Content-Location", internal)
				w.Header().Set("Refresh", "0; url="+internal)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":4,"result":{"content":[]}}`)
			}))
			defer up.Close()
			url, _ := f.front(t, up.URL+"/mcp", proxy.Config{ForwardToken: true})
			// A client that follows redirects would carry the token along.
			req := f.newRequest(t, url, rpcBody(4, "tools/call", `{"name":"ls","arguments":{}}`))
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := reply{resp.StatusCode, resp.Header, string(b)}
			for _, h := range []string{"Location", "Content-Location", "Refresh"} {
				if v := r.header.Get(h); v != "" {
					t.Errorf("the client got %s: %s", h, v)
				}
			}
			if strings.Contains(r.body, "10.1.2.3") {
				t.Errorf("the body names the upstream's target: %s", r.body)
			}
			if status >= 300 {
				wantRPCError(t, r, http.StatusBadGateway, "4")
			} else if r.status != status {
				t.Errorf("status %d, want %d", r.status, status)
			}
		})
	}
}

// TestUpstreamInterimResponsesDropped: a 103 Early Hints (with a Link to
// an internal URL) or an unsolicited 100 from the upstream does not reach
// the client; the final answer does.
func TestUpstreamInterimResponsesDropped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	final := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 48\r\n\r\n" + `{"jsonrpc":"2.0","id":5,"result":{"content":[]}}`
	for name, interim := range map[string]string{
		"103":         "HTTP/1.1 103 Early Hints\r\nLink: <http://10.1.2.3/internal>; rel=preload\r\n\r\n",
		"100":         "HTTP/1.1 100 Continue\r\n\r\n",
		"102 and 103": "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <http://10.1.2.3/x>\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			url, _ := f.front(t, rawServer(t, interim+final), proxy.Config{})
			var got []int
			var mu sync.Mutex
			req := f.newRequest(t, url, rpcBody(5, "tools/call", `{"name":"ls","arguments":{}}`))
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
					mu.Lock()
					got = append(got, code)
					mu.Unlock()
					return nil
				},
				Got100Continue: func() {
					mu.Lock()
					got = append(got, 100)
					mu.Unlock()
				},
			}))
			r := send(t, req)
			if r.status != 200 || !strings.Contains(r.body, `"id":5`) {
				t.Fatalf("%d %s", r.status, r.body)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 0 {
				t.Errorf("the client got interim responses %v", got)
			}
			if r.header.Get("Link") != "" {
				t.Errorf("Link reached the client: %s", r.header.Get("Link"))
			}
		})
	}
}

// rawExchange writes raw to the proxy at addr and returns everything it
// answers until it closes the connection or goes quiet.
func rawExchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
		line, err := br.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			return out.String()
		}
	}
}

// TestHopByHopAndUpgrade: headers a client names in Connection, Upgrade
// requests and Expect never make the upstream see something the Guard did
// not, or lose what the proxy sets: X-Forwarded-* named in Connection are
// still the proxy's own, Upgrade never reaches the upstream, Expect is
// answered by the proxy alone (one 100 Continue) and not forwarded.
func TestHopByHopAndUpgrade(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rc := &recorder{}
	up := rc.server(t)
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{ForwardPrincipal: true})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/mcp")
	tok := f.idp.Token(resource, "alice", "mcp:tools")
	ls := rpcBody(1, "tools/call", `{"name":"ls","arguments":{}}`)
	head := "POST /mcp HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer " + tok + "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-11-25\r\n"
	withBody := func(extra string) string {
		return head + extra + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(ls)) + ls
	}
	tests := []struct {
		name      string
		raw       string
		upstream  int    // requests that must reach the upstream
		continues int    // "100 Continue" lines the client must get
		status    string // the final status line's code
	}{
		{"connection names X-Forwarded-*", withBody("Connection: close, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n"), 1, 0, "200"},
		{"connection names Forwarded", withBody("Connection: close, Forwarded\r\nForwarded: for=6.6.6.6;host=evil.example\r\n"), 1, 0, "200"},
		{"websocket upgrade", withBody("Connection: close, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"), 1, 0, "200"},
		{"h2c upgrade", withBody("Connection: close, Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"), 1, 0, "200"},
		{"upgrade without connection", withBody("Connection: close\r\nUpgrade: websocket\r\n"), 1, 0, "200"},
		{"connection names Authorization", withBody("Connection: close, Authorization\r\n"), 0, 0, "401"},
		{"expect 100-continue", head + "Connection: close\r\nExpect: 100-continue\r\n" + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(ls)) + ls, 1, 1, "200"},
		{"TE and Proxy-Authorization", withBody("Connection: close\r\nTE: trailers\r\nProxy-Authorization: Basic YTpi\r\nKeep-Alive: timeout=5\r\n"), 1, 0, "200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := rawExchange(t, addr, tt.raw)
			if n := strings.Count(out, "100 Continue"); n != tt.continues {
				t.Errorf("the client got %d 100 Continue, want %d:\n%s", n, tt.continues, out)
			}
			if !strings.Contains(out, "HTTP/1.1 "+tt.status+" ") {
				t.Errorf("want status %s:\n%.400s", tt.status, out)
			}
			reqs, bodies := rc.take()
			if len(reqs) != tt.upstream {
				t.Fatalf("upstream got %d requests, want %d", len(reqs), tt.upstream)
			}
			for i, r := range reqs {
				if bodies[i] != ls {
					t.Errorf("upstream body %q", bodies[i])
				}
				h := r.Header
				if got := h.Values("X-Forwarded-For"); len(got) != 1 || got[0] != "127.0.0.1" {
					t.Errorf("X-Forwarded-For = %q, want the proxy's view", got)
				}
				if got := h.Values("X-Forwarded-Host"); len(got) != 1 || got[0] != "mcp.example.com" {
					t.Errorf("X-Forwarded-Host = %q", got)
				}
				if got := h.Values("X-Forwarded-Proto"); len(got) != 1 || got[0] != "http" {
					t.Errorf("X-Forwarded-Proto = %q", got)
				}
				for _, name := range []string{"Forwarded", "Upgrade", "Expect", "Http2-Settings", "Proxy-Authorization", "Keep-Alive", "Authorization"} {
					if v := h.Values(name); len(v) != 0 {
						t.Errorf("upstream got %s: %q", name, v)
					}
				}
				if te := h.Values("Te"); len(te) > 1 || len(te) == 1 && te[0] != "trailers" {
					t.Errorf("upstream got TE %q", te) // net/http keeps only "trailers"
				}
				if strings.Contains(strings.ToLower(h.Get("Connection")), "upgrade") {
					t.Errorf("upstream got Connection: %s", h.Get("Connection"))
				}
				if r.Host == "evil.example" {
					t.Error("upstream got the client's Host")
				}
				if got := h.Get(proxy.HeaderSubject); got != "alice" {
					t.Errorf("subject %q", got)
				}
			}
		})
	}
}

// TestPathTricksNeverReachAnotherUpstreamPath: whatever the client's
// request target, the upstream is asked for exactly the configured URL or
// not at all; every spelling of another path is 404 at the proxy.
func TestPathTricksNeverReachAnotherUpstreamPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rc := &recorder{}
	up := rc.server(t)
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/mcp")
	tok := f.idp.Token(resource, "alice", "mcp:tools")
	ls := rpcBody(1, "tools/call", `{"name":"ls","arguments":{}}`)
	for _, target := range []string{
		"//mcp", "/mcp/", "/mcp/../admin", "/mcp/..%2fadmin", "/mcp%2f..%2fadmin", "/%6dcp", "/mcp%2F", "/MCP", "/mcp;x=1",
		"/./mcp", "/a/../mcp", "/mcp%00", "/mcp%20", "/mcp/.", "http://evil.example/admin", "http://evil.example//mcp", "*", "/admin",
	} {
		t.Run(target, func(t *testing.T) {
			raw := "POST " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + tok +
				"\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-11-25\r\n" +
				fmt.Sprintf("Content-Length: %d\r\n\r\n", len(ls)) + ls
			out := rawExchange(t, addr, raw)
			if !strings.HasPrefix(out, "HTTP/1.1 404 ") && !strings.HasPrefix(out, "HTTP/1.1 400 ") {
				t.Errorf("want 404 or 400:\n%.300s", out)
			}
			if reqs, _ := rc.take(); len(reqs) != 0 {
				t.Errorf("upstream got %s", reqs[0].URL)
			}
		})
	}
	// The one target that is the resource, in absolute form, reaches the
	// configured upstream URL and nothing else.
	out := rawExchange(t, addr, "POST http://anything.example/mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "+tok+
		"\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-11-25\r\n"+
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(ls))+ls)
	reqs, _ := rc.take()
	if !strings.HasPrefix(out, "HTTP/1.1 200 ") || len(reqs) != 1 || reqs[0].URL.Path != "/mcp" || reqs[0].Host != strings.TrimPrefix(up.URL, "http://") {
		t.Errorf("absolute-form /mcp: %.200s; upstream %v", out, reqs)
	}
}

// TestUpstreamTrailersDropped: response trailers arrive after the body,
// past every header rule of the proxy (a WWW-Authenticate, a Location, a
// principal header); announced or not, they never reach the client.
func TestUpstreamTrailersDropped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, ct := range []string{"application/json", "text/event-stream"} {
		t.Run(ct, func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", ct)
				w.Header().Set("Trailer", "WWW-Authenticate, X-Up-Trailer")
				body := `{"jsonrpc":"2.0","id":6,"result":{"content":[]}}`
				if ct == "text/event-stream" {
					body = "event: message\ndata: " + body + "\n\n"
				}
				_, _ = io.WriteString(w, body)
				w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://evil.example/prm"`)
				w.Header().Set("X-Up-Trailer", "http://10.1.2.3/internal")
				w.Header().Set(http.TrailerPrefix+"Location", "http://10.1.2.3/unannounced")
			}))
			defer up.Close()
			url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
			resp, err := http.DefaultClient.Do(f.newRequest(t, url, rpcBody(6, "tools/call", `{"name":"ls","arguments":{}}`)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"id":6`) {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			if len(resp.Trailer) != 0 || resp.Header.Get("Trailer") != "" {
				t.Errorf("the client got trailers %v (announced %q)", resp.Trailer, resp.Header.Get("Trailer"))
			}
		})
	}
}

// TestRoutingAndIdentityOverridesStripped: headers that common upstream
// frameworks read as the request's method, path, prefix or client address
// (method-override middleware, IIS/Symfony X-Original-URL, nginx-style
// X-Real-IP, the X-Forwarded-* family beyond For/Host/Proto) would let a
// client make the upstream execute something other than what the Guard
// decided, or pose as another address. None reaches the upstream.
func TestRoutingAndIdentityOverridesStripped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rc := &recorder{}
	up := rc.server(t)
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
	req := f.newRequest(t, url, rpcBody(1, "tools/call", `{"name":"ls","arguments":{}}`))
	hostile := []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override", "X-Original-Url", "X-Rewrite-Url",
		"X-Original-Uri", "X-Forwarded-Prefix", "X-Forwarded-Path", "X-Forwarded-Uri", "X-Forwarded-Port", "X-Forwarded-Server",
		"X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Real-Ip", "X-Client-Ip", "True-Client-Ip", "X-Cluster-Client-Ip", "Cf-Connecting-Ip",
		"Fastly-Client-Ip", "X-Original-Forwarded-For", "X-Original-Host", "X-Host", "X-Url-Scheme", "Front-End-Https", "X-Proxyuser-Ip"}
	for _, h := range hostile {
		req.Header.Set(h, "DELETE /admin 6.6.6.6")
	}
	if r := send(t, req); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	reqs, _ := rc.take()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests", len(reqs))
	}
	for _, h := range hostile {
		if v := reqs[0].Header.Values(h); len(v) != 0 {
			t.Errorf("upstream got %s: %q", h, v)
		}
	}
}

// TestQueryStringKeepsSession: a refused query string on a request naming
// a session has no session side effect: DELETE /mcp?x does not end the
// binding (the upstream never saw the DELETE, so its session is still
// open), and the session keeps working.
func TestQueryStringKeepsSession(t *testing.T) {
	t.Parallel()
	const sid = "sess-query-0123456789"
	for _, method := range []string{http.MethodDelete, http.MethodPost, http.MethodGet} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			rc := &recorder{}
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				rc.mu.Lock()
				rc.reqs, rc.body = append(rc.reqs, r.Clone(r.Context())), append(rc.body, string(b))
				rc.mu.Unlock()
				if strings.Contains(string(b), `"initialize"`) {
					w.Header().Set("Mcp-Session-Id", sid)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"u","version":"1"},"content":[]}}`)
			}))
			t.Cleanup(up.Close)
			url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
			init := f.newRequest(t, url, rpcBody(1, "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`))
			if r := send(t, init); r.status != 200 || r.header.Get("Mcp-Session-Id") != sid {
				t.Fatalf("initialize: %d %v %s", r.status, r.header, r.body)
			}
			rc.take()
			body := ""
			if method == http.MethodPost {
				body = rpcBody(2, "tools/call", `{"name":"ls","arguments":{}}`)
			}
			req := f.newRequest(t, url+"?x", body)
			req.Method = method
			if body == "" {
				req.Body, req.ContentLength = http.NoBody, 0
			}
			req.Header.Set("Mcp-Session-Id", sid)
			if r := send(t, req); r.status != http.StatusBadRequest || !strings.Contains(r.body, "query string") {
				t.Fatalf("%s ?x: %d %s", method, r.status, r.body)
			}
			if reqs, _ := rc.take(); len(reqs) != 0 {
				t.Fatalf("the upstream got %d requests", len(reqs))
			}
			call := f.newRequest(t, url, rpcBody(3, "tools/call", `{"name":"ls","arguments":{}}`))
			call.Header.Set("Mcp-Session-Id", sid)
			if r := send(t, call); r.status != 200 {
				t.Fatalf("call in the session after the refused %s: %d %s", method, r.status, r.body)
			}
		})
	}
}
