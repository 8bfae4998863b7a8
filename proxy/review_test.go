package proxy_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/proxy"
)

// gzipBytes compresses b.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// gunzipPrefix decodes as much of b as decodes (a truncated or corrupted
// stream still yields its prefix, as a streaming client sees it).
func gunzipPrefix(b []byte) string {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return ""
	}
	out, _ := io.ReadAll(zr)
	return string(out)
}

// sseListWithBlankLine is an SSE tools/list response (with the hidden tool
// "rm") whose gzip encoding contains a blank line ("\n\n") well before its
// end: an SSE parser run over the compressed bytes sees an "event" there and
// passes it on.
func sseListWithBlankLine(t *testing.T) []byte {
	t.Helper()
	for i := 0; i < 3000; i++ {
		tools := []string{`{"name":"rm","description":"remove everything","inputSchema":{"type":"object"}}`}
		for j := 0; j < 30; j++ {
			tools = append(tools, fmt.Sprintf(`{"name":"t%d","description":"v%d","inputSchema":{"type":"object"}}`, j, i*31+j))
		}
		tools = append(tools, `{"name":"ls","inputSchema":{"type":"object"}}`)
		body := []byte("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[" + strings.Join(tools, ",") + "]}}\n\n")
		z := gzipBytes(body)
		for _, blank := range []string{"\n\n", "\r\r", "\n\r"} {
			if k := bytes.Index(z, []byte(blank)); k > 0 && k+2 < len(z) && strings.Contains(gunzipPrefix(z[:k+2]), `"rm"`) {
				return body
			}
		}
	}
	t.Fatal("no padding gives a gzip stream with an early blank line")
	return nil
}

// TestEncodedListNeverPassesUnfiltered: an upstream that compresses its
// responses (compression middleware does so for text/event-stream and
// application/json whenever the client's Accept-Encoding allows it) must
// not get a list past the filter, which reads only identity bytes. The
// client still gets its filtered list when the encoding is one the proxy
// can remove (gzip), and an error otherwise.
func TestEncodedListNeverPassesUnfiltered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sseList := sseListWithBlankLine(t)
	jsonList := []byte(`{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"ls","inputSchema":{"type":"object"}},{"name":"rm","inputSchema":{"type":"object"}}]}}`)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		encoding    string // sent whatever the request asked for, "" = gzip only when asked
		wantStatus  int
	}{
		{"gzip SSE when asked", "text/event-stream", sseList, "", 200},
		{"gzip JSON when asked", "application/json", jsonList, "", 200},
		{"gzip SSE always", "text/event-stream", sseList, "gzip", 200},
		{"unsolicited deflate SSE", "text/event-stream", sseList, "deflate", 502},
		{"unsolicited br JSON", "application/json", jsonList, "br", 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", tt.contentType)
				enc := tt.encoding
				if enc == "" && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					enc = "gzip"
				}
				if enc == "" {
					_, _ = w.Write(tt.body)
					return
				}
				w.Header().Set("Content-Encoding", enc)
				_, _ = w.Write(gzipBytes(tt.body))
			}))
			defer up.Close()
			url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
			req := f.newRequest(t, url, rpcBody(3, "tools/list", `{}`))
			req.Header.Set("Accept-Encoding", "gzip, deflate, br") // as undici and browsers send it
			r := send(t, req)
			decoded := r.body
			if ce := r.header.Get("Content-Encoding"); ce != "" {
				t.Errorf("the client got Content-Encoding %q the filter could not read", ce)
				decoded = gunzipPrefix([]byte(r.body))
			}
			if strings.Contains(decoded, `"rm"`) {
				t.Fatalf("the hidden tool reached the client: %.300q", decoded)
			}
			if r.status != tt.wantStatus {
				t.Errorf("status = %d, want %d: %.200q", r.status, tt.wantStatus, decoded)
			}
			if tt.wantStatus == 200 && !strings.Contains(decoded, `"ls"`) {
				t.Errorf("the filtered list is missing: %.300q", decoded)
			}
		})
	}
}

// cgiView is how a CGI-style upstream (WSGI, Rack, PHP) sees a request
// header: names upper-cased with "-" and "_" both read as "_", values of
// colliding names joined.
func cgiView(h http.Header) map[string]string {
	env := map[string]string{}
	for name, vs := range h {
		k := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if env[k] != "" {
			env[k] += ","
		}
		env[k] += strings.Join(vs, ",")
	}
	return env
}

// TestUnderscoreHeadersNeverReachUpstream: a header the Guard reads under
// its canonical name (Mcp-Session-Id, Last-Event-ID, Mcp-Protocol-Version,
// Authorization) cannot be smuggled past it spelled with "_": net/http
// keeps Mcp_Session_Id as a different header, which the Guard ignores, but
// a CGI-style upstream reads both as HTTP_MCP_SESSION_ID. Bob must not be
// able to act in alice's session, nor resume a stream, that way.
func TestUnderscoreHeadersNeverReachUpstream(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const sid = "sess-alice-0123456789"
	seen := make(chan http.Header, 4)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(string(body), `"initialize"`) {
			w.Header().Set("Mcp-Session-Id", sid)
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"u","version":"1"}}}`)
			return
		}
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{"content":[]}}`)
	}))
	defer up.Close()
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
	init := f.newRequest(t, url, rpcBody(1, "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`))
	if r := send(t, init); r.status != 200 || r.header.Get("Mcp-Session-Id") != sid {
		t.Fatalf("alice's initialize: %d %v", r.status, r.header)
	}
	<-seen
	// bob, with alice's session id (leaked, guessed from logs) spelled
	// with underscores.
	req := f.newRequest(t, url, rpcBody(2, "tools/call", `{"name":"ls","arguments":{}}`))
	req.Header.Set("Authorization", "Bearer "+f.idp.Token(resource, "bob", "mcp:tools"))
	req.Header["Mcp_Session_Id"] = []string{sid}
	req.Header["last_event_id"] = []string{"0_5"}
	req.Header["MCP_PROTOCOL_VERSION"] = []string{"2025-03-26"}
	req.Header["Authorization_"] = []string{"x"}
	r := send(t, req)
	if r.status != 200 {
		// Refusing the request outright is also acceptable.
		return
	}
	h := <-seen
	env := cgiView(h)
	for _, k := range []string{"HTTP_MCP_SESSION_ID", "HTTP_LAST_EVENT_ID"} {
		if v := env[k]; v != "" {
			t.Errorf("the upstream reads %s=%q the Guard never checked", k, v)
		}
	}
	if v := env["HTTP_MCP_PROTOCOL_VERSION"]; v != "2025-11-25" {
		t.Errorf("the upstream reads HTTP_MCP_PROTOCOL_VERSION=%q, the Guard checked 2025-11-25", v)
	}
	for name := range h {
		if strings.Contains(name, "_") {
			t.Errorf("upstream got %s", name)
		}
	}
}

// TestUpstreamCannotSpeakForTheGuard: the Guard owns the authentication
// challenge. An upstream 401 (it wants a credential the proxy does not
// forward) or a WWW-Authenticate naming another authorization server must
// not send the client into an OAuth flow the Guard did not ask for. A
// session id the upstream hands out on a non-initialize response is
// useless to the receiver: the Guard never bound it to them.
func TestUpstreamCannotSpeakForTheGuard(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const evil = `Bearer resource_metadata="https://evil.example/.well-known/oauth-protected-resource", scope="admin"`
	const aliceSession = "sess-alice-abcdef0123"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(string(body), `"initialize"`):
			w.Header().Set("Mcp-Session-Id", aliceSession)
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"u","version":"1"}}}`)
		case strings.Contains(string(body), `"echo"`): // 401 with its own challenge
			w.Header().Set("WWW-Authenticate", evil)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":2,"error":{"code":-32001,"message":"unauthorized"}}`)
		default: // 200, with a challenge and alice's session id
			w.Header().Set("WWW-Authenticate", evil)
			w.Header().Set("Mcp-Session-Id", aliceSession)
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{"content":[]}}`)
		}
	}))
	defer up.Close()
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
	if r := send(t, f.newRequest(t, url, rpcBody(1, "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`))); r.status != 200 {
		t.Fatalf("alice's initialize: %d %s", r.status, r.body)
	}
	bob := func(body, session string) reply {
		req := f.newRequest(t, url, body)
		req.Header.Set("Authorization", "Bearer "+f.idp.Token(resource, "bob", "mcp:tools"))
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		return send(t, req)
	}
	r := bob(rpcBody(2, "tools/call", `{"name":"echo","arguments":{}}`), "")
	if r.status == http.StatusUnauthorized {
		t.Errorf("an upstream 401 reached a client whose token the Guard accepted (it would re-authenticate in a loop): %s", r.body)
	}
	if c := r.header.Get("WWW-Authenticate"); c != "" {
		t.Errorf("upstream 401: the client got the upstream's challenge %q", c)
	}
	wantRPCError(t, r, http.StatusBadGateway, "2")
	r = bob(rpcBody(2, "tools/call", `{"name":"ls","arguments":{}}`), "")
	if r.status != 200 {
		t.Fatalf("bob's call: %d %s", r.status, r.body)
	}
	if c := r.header.Get("WWW-Authenticate"); c != "" {
		t.Errorf("upstream 200: the client got the upstream's challenge %q", c)
	}
	// held: the session id the upstream gave bob is alice's; using it fails.
	if got := r.header.Get("Mcp-Session-Id"); got == aliceSession {
		if r := bob(rpcBody(3, "tools/call", `{"name":"ls","arguments":{}}`), got); r.status != http.StatusNotFound {
			t.Errorf("bob in alice's session: %d %s", r.status, r.body)
		}
	}
}

// TestRequestFramingCannotSmuggle: whatever framing tricks the client
// plays (Transfer-Encoding with Content-Length, pipelining, a second
// request hidden in a chunked body, HTTP/1.0, Expect: 100-continue,
// Connection naming the Guard's headers), the upstream receives only
// bodies the Guard inspected and allowed, byte for byte.
func TestRequestFramingCannotSmuggle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var mu sync.Mutex
	var bodies []string
	var headers []http.Header
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, headers = append(bodies, string(b)), append(headers, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
	}))
	defer up.Close()
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{ForwardPrincipal: true})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/mcp")
	tok := f.idp.Token(resource, "alice", "mcp:tools")
	ls := rpcBody(1, "tools/call", `{"name":"ls","arguments":{}}`)
	rm := rpcBody(1, "tools/call", `{"name":"rm","arguments":{}}`)
	head := "Host: x\r\nAuthorization: Bearer " + tok + "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-11-25\r\n"
	req := func(extra, body string) string {
		return "POST /mcp HTTP/1.1\r\n" + head + extra + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
	}
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }
	smuggled := req("", rm)
	tests := []struct {
		name string
		raw  string
		want int // upstream requests, each the allowed body
	}{
		{"pipelined allowed then denied", req("", ls) + smuggled, 1},
		{"TE chunked with CL", "POST /mcp HTTP/1.1\r\n" + head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(ls) + "0\r\n\r\n" + smuggled, 1},
		{"CL shorter than body", "POST /mcp HTTP/1.1\r\n" + head + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(ls)) + ls + smuggled, 1},
		{"chunked with trailer", "POST /mcp HTTP/1.1\r\n" + head + "Connection: close\r\nTransfer-Encoding: chunked\r\nTrailer: X-Mcpauthz-Subject\r\n\r\n" + chunk(ls[:10]) + chunk(ls[10:]) + "0\r\nX-Mcpauthz-Subject: root\r\n\r\n", 1},
		{"TE identity, chunked", "POST /mcp HTTP/1.1\r\n" + head + "Transfer-Encoding: identity, chunked\r\n\r\n" + chunk(ls) + "0\r\n\r\n", 0},
		{"HTTP/1.0", "POST /mcp HTTP/1.0\r\n" + head + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(ls)) + ls, 1},
		{"expect continue", req("Connection: close\r\nExpect: 100-continue\r\n", ls), 1},
		{"connection names principal header", req("Connection: close, X-Mcpauthz-Subject\r\nX-Mcpauthz-Subject: root\r\n", ls), 1},
		// The upstream never gets a header the Guard saw and the upstream does not, or the reverse: Content-Type hidden from the upstream is hidden from the Guard.
		{"connection hides Content-Type", req("Connection: close, Content-Type\r\n", ls), 0},
		// More framing an attacker tries; net/http refuses each (400/501) or reads it one way only.
		{"two different Content-Lengths", "POST /mcp HTTP/1.1\r\n" + head + fmt.Sprintf("Content-Length: %d\r\nContent-Length: %d\r\n\r\n", len(ls), len(ls)+len(smuggled)) + ls + smuggled, 0},
		{"Content-Length list", "POST /mcp HTTP/1.1\r\n" + head + fmt.Sprintf("Content-Length: %d, %d\r\n\r\n", len(ls), len(ls)+len(smuggled)) + ls + smuggled, 0},
		{"Content-Length with plus", "POST /mcp HTTP/1.1\r\n" + head + fmt.Sprintf("Content-Length: +%d\r\n\r\n", len(ls)) + ls, 0},
		{"space before colon in TE", "POST /mcp HTTP/1.1\r\n" + head + fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding : chunked\r\n\r\n", len(ls)) + ls + smuggled, 0},
		{"obs-fold TE", "POST /mcp HTTP/1.1\r\n" + head + fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", len(ls)) + ls + smuggled, 0},
		{"TE twice", "POST /mcp HTTP/1.1\r\n" + head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(ls) + "0\r\n\r\n" + smuggled, 0},
		{"TE xchunked", "POST /mcp HTTP/1.1\r\n" + head + fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: xchunked\r\n\r\n", len(ls)) + ls + smuggled, 0},
		{"chunk size with bare LF", "POST /mcp HTTP/1.1\r\n" + head + "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\n%s\r\n0\r\n\r\n", len(ls), ls) + smuggled, 0},
		{"chunk extension", "POST /mcp HTTP/1.1\r\n" + head + "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x;ext=\"x\"\r\n%s\r\n0\r\n\r\n", len(ls), ls), 1},
		{"oversized chunk size", "POST /mcp HTTP/1.1\r\n" + head + "Transfer-Encoding: chunked\r\n\r\n" + "fffffffffffffffff\r\n" + ls + "\r\n0\r\n\r\n", 0},
		{"absolute form to another path", strings.Replace(req("Connection: close\r\n", ls), "POST /mcp ", "POST http://evil.example/admin ", 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			bodies, headers = nil, nil
			mu.Unlock()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, tt.raw); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			for finals := 0; finals < 2; { // up to two final responses
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					break
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 200 {
					finals++
				}
				if resp.Close {
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) != tt.want {
				t.Errorf("upstream got %d requests, want %d", len(bodies), tt.want)
			}
			for i, b := range bodies {
				if b != ls {
					t.Errorf("upstream got a body the Guard did not allow: %q", b)
				}
				if got := headers[i].Get(proxy.HeaderSubject); got != "alice" {
					t.Errorf("upstream saw subject %q", got)
				}
			}
		})
	}
}

// TestSSEListTricksThroughProxy: a list delivered as SSE is filtered
// whatever its framing: CR or CRLF line endings, the data split over
// several data: lines, the event split over many tiny flushed writes,
// id:/retry: fields, comments, an event type other than message, and a
// batch array.
func TestSSEListTricksThroughProxy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const tools = `{"tools":[{"name":"rm","inputSchema":{"type":"object"}},{"name":"ls","inputSchema":{"type":"object"}}]}`
	one := `{"jsonrpc":"2.0","id":3,"result":` + tools + `}`
	tests := []struct{ name, stream string }{
		{"CR endings", ": hi\rid: 7\rretry: 10\revent: message\rdata: " + one + "\r\r"},
		{"CRLF endings", "event: message\r\ndata: " + one + "\r\n\r\n"},
		{"multi-line data", "event: message\ndata: {\"jsonrpc\":\"2.0\",\ndata: \"id\":3,\ndata: \"result\":" + tools + "}\n\n"},
		{"other event type", "event: surprise\ndata: " + one + "\n\n"},
		{"no space after colon", "data:" + one + "\n\n"},
		{"batch", "data: [" + one + "]\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(200)
				for i := 0; i < len(tt.stream); i += 3 { // tiny flushed writes
					_, _ = io.WriteString(w, tt.stream[i:min(i+3, len(tt.stream))])
					_ = http.NewResponseController(w).Flush()
				}
			}))
			defer up.Close()
			url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
			r := send(t, f.newRequest(t, url, rpcBody(3, "tools/list", `{}`)))
			if strings.Contains(r.body, `"rm"`) {
				t.Fatalf("hidden tool reached the client: %q", r.body)
			}
			if r.status != 200 || !strings.Contains(r.body, `"ls"`) {
				t.Errorf("status %d, body %q: want the filtered list", r.status, r.body)
			}
		})
	}
}

// TestUpstreamAmbiguousContentType: the filter classifies a response by its
// first Content-Type; a client may read another one (Java's
// HttpURLConnection reads the last). A response with more than one is
// refused, so the filter and the client always agree on the media type.
func TestUpstreamAmbiguousContentType(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header()["Content-Type"] = []string{"text/event-stream", "application/json"}
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"rm","inputSchema":{"type":"object"}}]}}`+"\n\n")
	}))
	defer up.Close()
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
	r := send(t, f.newRequest(t, url, rpcBody(3, "tools/list", `{}`)))
	if strings.Contains(r.body, `"rm"`) {
		t.Errorf("the unfiltered list reached the client labelled %q: %q", r.header.Values("Content-Type"), r.body)
	}
	wantRPCError(t, r, http.StatusBadGateway, "3")
}

// TestUpstreamHugeHeader: the default transport bounds the upstream's
// response header (net/http's own default is 10 MB per response).
func TestUpstreamHugeHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	huge := rawServer(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: "+strings.Repeat("a", 200<<10)+"\r\nContent-Length: 2\r\n\r\n{}")
	url, _ := f.front(t, huge, proxy.Config{})
	wantRPCError(t, send(t, f.newRequest(t, url, rpcBody(7, "tools/call", `{"name":"ls","arguments":{}}`))), http.StatusBadGateway, "7")
}

// TestForwardedHostIsTheResource: X-Forwarded-Host is the proxy's own view
// of its public host (the resource URL's), never the client's Host header,
// which an upstream building absolute URLs from it would otherwise trust.
func TestForwardedHostIsTheResource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	seen := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		seen <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
	}))
	defer up.Close()
	url, _ := f.front(t, up.URL+"/mcp", proxy.Config{})
	req := f.newRequest(t, url, rpcBody(1, "tools/call", `{"name":"ls","arguments":{}}`))
	req.Host = "evil.example"
	if r := send(t, req); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	h := <-seen
	if got := h.Values("X-Forwarded-Host"); len(got) != 1 || got[0] != "mcp.example.com" {
		t.Errorf("X-Forwarded-Host = %q, want the resource's host", got)
	}
}
