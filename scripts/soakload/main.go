// Command soakload is the load generator of scripts/soak.sh: it creates MCP
// sessions against a loopback endpoint and abandons them (one in ten is
// ended with DELETE), reading the bearer token of each request from the
// rotating files token.0 … token.N-1 in -tokens. It stops at -duration and
// prints the HTTP status counts as JSON.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"soak","version":"1"}}}`

func main() {
	endpoint := flag.String("mcp", "", "MCP endpoint on loopback (REQUIRED)")
	tokens := flag.String("tokens", "", "directory with token.0 … token.N-1 (REQUIRED)")
	n := flag.Int("principals", 5, "number of token files")
	duration := flag.Duration("duration", 10*time.Minute, "how long to run")
	workers := flag.Int("workers", 4, "concurrent loops")
	flag.Parse()
	if *endpoint == "" || *tokens == "" || *n <= 0 || *workers <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if !strings.HasPrefix(*endpoint, "http://127.0.0.1:") && !strings.HasPrefix(*endpoint, "http://[::1]:") {
		log.Fatal("soakload: loopback endpoints only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *workers}}
	var mu sync.Mutex
	counts := map[string]int{}
	count := func(k string) { mu.Lock(); counts[k]++; mu.Unlock() }
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i += *workers {
				tok, err := os.ReadFile(filepath.Join(*tokens, fmt.Sprintf("token.%d", i%*n)))
				if err != nil {
					count("token-error")
					time.Sleep(100 * time.Millisecond)
					continue
				}
				session(ctx, client, *endpoint, strings.TrimSpace(string(tok)), i%10 == 0, count)
			}
		}()
	}
	wg.Wait()
	b, _ := json.Marshal(counts)
	fmt.Println(string(b))
}

// session runs initialize, notifications/initialized and tools/list in a
// new session, then abandons it or DELETEs it.
func session(ctx context.Context, c *http.Client, endpoint, tok string, del bool, count func(string)) {
	send := func(method, body, sid string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, method, endpoint, strings.NewReader(body))
		if err != nil {
			return 0, ""
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, ""
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Mcp-Session-Id")
	}
	code, sid := send(http.MethodPost, initBody, "")
	count(fmt.Sprintf("initialize %d", code))
	if sid == "" {
		return
	}
	for _, b := range []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`} {
		code, _ = send(http.MethodPost, b, sid)
		count(fmt.Sprintf("use %d", code))
	}
	if del {
		code, _ = send(http.MethodDelete, "", sid)
		count(fmt.Sprintf("delete %d", code))
	}
}
