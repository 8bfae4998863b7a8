package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/proxy"
)

// BenchmarkProxy measures one allowed tools/call (and one filtered
// tools/list) over loopback through the Guard proxy against the same
// request through a bare httputil.ReverseProxy to the same upstream, in
// the same run: compare with benchstat -col /mode.
func BenchmarkProxy(b *testing.B) {
	idp := newFixtureTB(b)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(string(body), "tools/list") {
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls","inputSchema":{"type":"object"}},{"name":"rm","inputSchema":{"type":"object"}},{"name":"echo","inputSchema":{"type":"object"}}]}}`)
			return
		}
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`)
	}))
	defer up.Close()
	target, _ := url.Parse(up.URL + "/mcp")
	bare := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.URL.Path = "/mcp" }})
	defer bare.Close()
	p, err := proxy.New(proxy.Config{Guard: idp.g, Upstream: up.URL + "/mcp", ForwardPrincipal: true})
	if err != nil {
		b.Fatal(err)
	}
	guarded := httptest.NewServer(p)
	defer guarded.Close()
	tok := idp.idp.Token(resource, "alice", "mcp:tools")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	do := func(url, body string) (int, []byte, error) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		return resp.StatusCode, out, err
	}
	for range 50 { // warm both paths (connections, token cache) before measuring
		_, _, _ = do(bare.URL+"/mcp", rpcBody(1, "tools/list", `{}`))
		_, _, _ = do(guarded.URL+"/mcp", rpcBody(1, "tools/list", `{}`))
	}
	for _, op := range []struct{ name, body string }{
		{"call", rpcBody(1, "tools/call", `{"name":"ls","arguments":{}}`)},
		{"list", rpcBody(1, "tools/list", `{}`)},
	} {
		for _, mode := range []struct{ name, url string }{{"bare", bare.URL + "/mcp"}, {"guard", guarded.URL + "/mcp"}} {
			b.Run("op="+op.name+"/mode="+mode.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					status, body, err := do(mode.url, op.body)
					if err != nil || status != 200 || (op.name == "list" && mode.name == "guard" && strings.Contains(string(body), `"rm"`)) {
						b.Fatalf("%d %s %v", status, body, err)
					}
				}
			})
		}
	}
}
