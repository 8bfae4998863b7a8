package fibermcp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// learnAfter is the package's: the completions without a flush after
// which a method runs inline.
const learnAfter = 8

// placeRecorder wraps an MCP handler and records, per JSON-RPC method of
// a POST (the HTTP method otherwise), whether each request ran on a
// goroutine of the bridge's pool (true) or inline on fasthttp's (false).
type placeRecorder struct {
	h  http.Handler
	mu sync.Mutex
	on map[string][]bool
}

func (p *placeRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		var msg struct{ Method string }
		if json.Unmarshal(b, &msg) == nil && msg.Method != "" {
			key = msg.Method
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	worker := onWorker()
	p.mu.Lock()
	p.on[key] = append(p.on[key], worker)
	p.mu.Unlock()
	p.h.ServeHTTP(w, r)
}

// places returns the recorded places of method.
func (p *placeRecorder) places(method string) []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.on[method]...)
}

// tokenTransport sends a bearer token with every request.
type tokenTransport struct{ tok string }

func (tt tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+tt.tok)
	return http.DefaultTransport.RoundTrip(r)
}

// TestLearnGoSDK: behind New and the default Handler, a real go-sdk
// server answers as before while the bridge learns: with JSON responses
// (stateless or stateful) tools/call runs on the pool for its first
// learnAfter calls and inline from then on, and the GET stream of a
// stateful session stays on the pool and delivers a notification while
// open; with SSE responses (the go-sdk's default, which flushes every
// event) nothing ever runs inline. The handler is wrapped (to record where
// it runs), so it learns with LearnAlways; with the default LearnSDK (the
// wrapper is not the go-sdk's handler) and with LearnNever everything stays
// on the pool.
func TestLearnGoSDK(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		opts     mcp.StreamableHTTPOptions
		learning fibermcp.Learning
		inline   bool // tools/call runs inline once learned
	}{
		{"JSON stateless", mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}, fibermcp.LearnAlways, true},
		{"JSON stateful", mcp.StreamableHTTPOptions{JSONResponse: true}, fibermcp.LearnAlways, true},
		{"SSE stateful", mcp.StreamableHTTPOptions{}, fibermcp.LearnAlways, false},
		{"JSON stateless, LearnNever", mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}, fibermcp.LearnNever, false},
		{"JSON stateless, wrapped, LearnSDK", mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}, fibermcp.LearnSDK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, idp := coretest.NewSuiteGuard(t, resource, nil)
			s := mcp.NewServer(&mcp.Implementation{Name: "learn", Version: "1.0.0"}, nil)
			tool := func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok " + req.Params.Name}}}, nil
			}
			s.AddTool(&mcp.Tool{Name: "ls", InputSchema: map[string]any{"type": "object"}}, tool)
			opts := tc.opts
			rec := &placeRecorder{h: mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &opts),
				on: map[string][]bool{}}
			logs := &lockedBuffer{}
			cfg := fibermcp.HandlerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), Learning: tc.learning}
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.All("/api/mcp", fibermcp.New(g), fibermcp.HandlerWith(rec, cfg))
			base := serve(t, app)

			cl, changed := listChangedClient()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			hc := &http.Client{Transport: tokenTransport{idp.Token(resource, "alice")}, Timeout: 20 * time.Second}
			sess, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/api/mcp", HTTPClient: hc, MaxRetries: -1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			const calls = learnAfter + 4
			for i := range calls {
				res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "ls"})
				if err != nil || res.IsError || len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != "ok ls" {
					t.Fatalf("tools/call %d: %v %+v", i, err, res)
				}
				lr, err := sess.ListTools(ctx, nil)
				if err != nil || len(lr.Tools) != 1 || lr.Tools[0].Name != "ls" {
					t.Fatalf("tools/list %d: %v %+v", i, err, lr)
				}
			}
			for _, m := range []string{"tools/call", "tools/list"} {
				places := rec.places(m)
				if len(places) != calls {
					t.Fatalf("%s: %d requests recorded, want %d", m, len(places), calls)
				}
				for i, worker := range places {
					if wantWorker := !tc.inline || i < learnAfter; worker != wantWorker {
						t.Errorf("%s %d: on the pool %v, want %v (all: %v)", m, i, worker, wantWorker, places)
						break
					}
				}
			}
			if !opts.Stateless {
				awaitListChanged(ctx, t, s, tool, changed)
				for _, worker := range rec.places(http.MethodGet) {
					if !worker {
						t.Error("a GET stream ran inline")
					}
				}
			}
			if err := sess.Close(); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("close: %v", err)
			}
			if log := logs.take(); log != "" {
				t.Errorf("logged %q, want nothing", log)
			}
		})
	}
}

// TestLearnThenFlush: a handler that answers a method learnAfter times
// without flushing gets it inline; when it then flushes a response there,
// the response is not refused: the client gets everything the handler
// wrote, whole, once the handler returned, one Warn names the method and
// the path (never the token), and the method streams from then on: the
// next response's first event arrives before its handler returns. A
// method outside the learned set (subscriptions/listen) and a GET stream
// are live whatever came before, and a panic after a late flush closes
// the connection as under Buffered.
func TestLearnThenFlush(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	tok := idp.Token(resource, "alice")
	var mode struct {
		sync.Mutex
		stream, panic bool
	}
	type seen struct {
		worker bool
		ctxErr error // of the request context when the handler returned
	}
	seenc := make(chan seen, 64)
	var streaming atomic.Bool          // a streaming handler has not returned yet
	release := make(chan struct{}, 64) // one token lets one streaming handler end
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode.Lock()
		stream, doPanic := mode.stream, mode.panic
		mode.Unlock()
		if r.Method == http.MethodGet || strings.Contains(r.Header.Get("Mcp-Method"), "subscriptions/listen") {
			stream = true
		}
		defer func() {
			streaming.Store(false)
			seenc <- seen{onWorker(), r.Context().Err()}
		}()
		if !stream {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
			return
		}
		streaming.Store(true)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		if doPanic {
			panic("boom after a late flush")
		}
		select { // live: the client read the first event and released us
		case <-release:
		case <-time.After(300 * time.Millisecond): // inline: nobody can
		}
		_, _ = io.WriteString(w, "data: second\n\n")
	})
	logs := &lockedBuffer{}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/api/mcp", fibermcp.New(g), fibermcp.HandlerWith(h, fibermcp.HandlerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), Learning: fibermcp.LearnAlways}))
	url := serve(t, app) + "/api/mcp"
	call := coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)

	// send sends a request; for a stream, it reads the first event and
	// reports whether it came before the handler returned (live).
	send := func(t *testing.T, method, body, mcpMethod string) (resp *http.Response, rest string, live bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		if mcpMethod != "" {
			req.Header.Set("Mcp-Method", mcpMethod)
		}
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			return nil, err.Error(), false
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		if resp.Header.Get("Content-Type") == "text/event-stream" {
			first, _ := br.ReadString('\n')
			live = streaming.Load() // the first event came before the handler returned
			release <- struct{}{}
			b, _ := io.ReadAll(br)
			return resp, first + string(b), live
		}
		b, _ := io.ReadAll(br)
		return resp, string(b), false
	}
	next := func(t *testing.T) seen {
		t.Helper()
		select {
		case s := <-seenc:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("the handler did not return")
		}
		return seen{}
	}
	setMode := func(stream, doPanic bool) {
		mode.Lock()
		mode.stream, mode.panic = stream, doPanic
		mode.Unlock()
	}
	drain := func() { // release tokens left by inline streams
		for {
			select {
			case <-release:
			default:
				return
			}
		}
	}

	for i := range learnAfter + 1 {
		resp, body, _ := send(t, http.MethodPost, call, "")
		if resp == nil || resp.StatusCode != 200 || body != `{"jsonrpc":"2.0","id":1,"result":{}}` {
			t.Fatalf("call %d: %v %q", i, resp, body)
		}
		if s := next(t); s.worker != (i < learnAfter) {
			t.Fatalf("call %d: on the pool %v, want %v", i, s.worker, i < learnAfter)
		}
	}
	if log := logs.take(); log != "" {
		t.Fatalf("logged %q while learning", log)
	}

	t.Run("late flush goes out whole", func(t *testing.T) {
		setMode(true, false)
		resp, body, _ := send(t, http.MethodPost, call, "")
		s := next(t)
		drain()
		if resp == nil || resp.StatusCode != 200 || body != "data: first\n\ndata: second\n\n" {
			t.Fatalf("response %v %q, want 200 and both events", resp, body)
		}
		if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("Content-Length %d, Transfer-Encoding %v: want the response whole", resp.ContentLength, resp.TransferEncoding)
		}
		if s.worker || s.ctxErr != nil {
			t.Errorf("handler on the pool %v, context %v: want inline and not cancelled", s.worker, s.ctxErr)
		}
		log := logs.take()
		if strings.Count(log, "level=WARN") != 1 || !strings.Contains(log, "rpc_method=tools/call") || !strings.Contains(log, "path=/api/mcp") {
			t.Errorf("log %q, want one Warn with the method and path", log)
		}
		if strings.Contains(log, tok) {
			t.Error("the token leaked into the log")
		}
	})
	t.Run("then streams live", func(t *testing.T) {
		for i := range 2 {
			resp, body, live := send(t, http.MethodPost, call, "")
			s := next(t)
			if resp == nil || body != "data: first\n\ndata: second\n\n" || !live || !s.worker {
				t.Errorf("call %d: %v %q live %v on the pool %v, want both events, live, on the pool", i, resp, body, live, s.worker)
			}
		}
		setMode(false, false)
		for i := range learnAfter + 1 { // never inline again
			if resp, _, _ := send(t, http.MethodPost, call, ""); resp == nil || resp.StatusCode != 200 {
				t.Fatalf("call %d: %v", i, resp)
			}
			if s := next(t); !s.worker {
				t.Fatalf("call %d ran inline after the method flushed", i)
			}
		}
		if log := logs.take(); log != "" {
			t.Errorf("logged %q, want nothing", log)
		}
	})
	t.Run("subscriptions/listen and GET stay live", func(t *testing.T) {
		listen := coretest.RPC("subscriptions/listen", `{}`)
		for i := range learnAfter + 2 {
			for _, r := range []struct{ method, body, mcpMethod string }{
				{http.MethodPost, listen, "subscriptions/listen"}, {http.MethodGet, "", ""},
			} {
				resp, body, live := send(t, r.method, r.body, r.mcpMethod)
				s := next(t)
				if resp == nil || body != "data: first\n\ndata: second\n\n" || !live || !s.worker {
					t.Fatalf("%s %d: %v %q live %v on the pool %v", r.method, i, resp, body, live, s.worker)
				}
			}
		}
	})
	t.Run("panic after a late flush", func(t *testing.T) {
		ping := coretest.RPC("ping", `{}`)
		for i := range learnAfter {
			if resp, _, _ := send(t, http.MethodPost, ping, ""); resp == nil || resp.StatusCode != 200 {
				t.Fatalf("ping %d: %v", i, resp)
			}
			next(t)
		}
		setMode(true, true)
		defer setMode(false, false)
		resp, body, _ := send(t, http.MethodPost, ping, "")
		if s := next(t); s.worker {
			t.Error("ping ran on the pool, want inline")
		}
		if resp != nil {
			t.Errorf("got %d %q, want the connection closed without a response", resp.StatusCode, body)
		}
		log := logs.take()
		if !strings.Contains(log, "boom after a late flush") || !strings.Contains(log, "rpc_method=ping") {
			t.Errorf("log %q, want the Warn and the panic", log)
		}
	})
}

// TestLearnConcurrent: concurrent requests of a learned method (tools/call
// once learned), of methods still learning and of one that streams
// (an SSE server's) all get their answers while the tables change.
func TestLearnConcurrent(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	s := mcp.NewServer(&mcp.Implementation{Name: "learn", Version: "1.0.0"}, nil)
	s.AddTool(&mcp.Tool{Name: "ls", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil
		})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	for _, m := range []struct {
		path string
		json bool
	}{{"/api/mcp", true}, {"/api/sse", false}} {
		sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
			&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: m.json})
		app.All(m.path, fibermcp.New(g), fibermcp.Handler(sdk))
	}
	base := serve(t, app)
	tok := idp.Token(resource, "alice")
	bodies := []string{coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`), coretest.RPC("ping", `{}`),
		coretest.RPC("tools/list", `{}`)}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 * learnAfter {
				path := "/api/mcp"
				if (w+i)%3 == 0 {
					path = "/api/sse"
				}
				body := bodies[(w+i)%len(bodies)]
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					b, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					if rerr != nil || resp.StatusCode != 200 || !strings.Contains(string(b), `"result"`) {
						err = fmt.Errorf("%s %s: %d %q %v", path, body, resp.StatusCode, b, rerr)
					}
				}
				cancel()
				if err != nil {
					errs <- err
					return
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

// TestLateFlushPipelined: requests pipelined on one connection behind and
// after a learned method's late flush get their responses in order and
// whole: the late flush writes nothing around fasthttp's own output.
func TestLateFlushPipelined(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), `"echo"`) { // ls: one JSON answer
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "data: second\n\n")
	})
	logs := &lockedBuffer{}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/api/mcp", fibermcp.New(g), fibermcp.HandlerWith(h, fibermcp.HandlerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), Learning: fibermcp.LearnAlways}))
	addr := strings.TrimPrefix(serve(t, app), "http://")
	tok := idp.Token(resource, "alice")
	request := func(tool string) string {
		body := coretest.RPC("tools/call", `{"name":"`+tool+`","arguments":{}}`)
		return fmt.Sprintf("POST /api/mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
			"Accept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n%s", tok, len(body), body)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	read := func(i int, want string) {
		t.Helper()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || string(b) != want || len(resp.TransferEncoding) != 0 {
			t.Errorf("response %d: %d %q %v %v, want 200 %q whole", i, resp.StatusCode, b, resp.TransferEncoding, err, want)
		}
	}
	const answer = `{"jsonrpc":"2.0","id":1,"result":{}}`
	for i := range learnAfter { // one at a time: the method is learned after them
		if _, err := io.WriteString(conn, request("ls")); err != nil {
			t.Fatal(err)
		}
		read(i, answer)
	}
	// Three in one write: fasthttp reads them from one buffer and holds
	// the first response in its writer while it serves the second.
	if _, err := io.WriteString(conn, request("ls")+request("echo")+request("ls")); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{answer, "data: first\n\ndata: second\n\n", answer} {
		read(learnAfter+i, want)
	}
	if log := logs.take(); strings.Count(log, "level=WARN") != 1 {
		t.Errorf("log %q, want one Warn", log)
	}
}

// TestLearnNotFromRefusals: a client cannot teach the default Handler that
// an SSE server (the go-sdk's default) answers tools/call whole by sending
// calls the server refuses without flushing (400s: an Accept without
// text/event-stream, a tools/call without an id, which the Guard passes
// as a notification), twice learnAfter of them from another principal. Another principal's
// tools/call then still streams: its progress notification arrives while
// the tool is still running (on main it came only once the tool returned,
// and an elicitation, which waits for the client's answer, never would).
func TestLearnNotFromRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, accept, body string
		status             int
	}{
		{"400 for the Accept header", "application/json",
			coretest.RPC("tools/call", `{"name":"echo","arguments":{}}`), http.StatusBadRequest},
		{"400 for a call without an id", "application/json, text/event-stream",
			`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{}}}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, idp := coretest.NewSuiteGuard(t, resource, nil)
			var running atomic.Bool // the tool has not returned yet
			release := make(chan struct{})
			s := mcp.NewServer(&mcp.Implementation{Name: "learn", Version: "1.0.0"}, nil)
			s.AddTool(&mcp.Tool{Name: "echo", InputSchema: map[string]any{"type": "object"}},
				func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
					running.Store(true)
					defer running.Store(false)
					if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: req.Params.GetProgressToken(), Progress: 1, Message: "started"}); err != nil {
						return nil, err
					}
					select {
					case <-release:
					case <-time.After(3 * time.Second): // inline: nobody can release it
					}
					return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil
				})
			sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
				&mcp.StreamableHTTPOptions{Stateless: true})
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.All("/api/mcp", fibermcp.New(g), fibermcp.Handler(sdk))
			url := serve(t, app) + "/api/mcp"
			post := func(tok, accept, body string) *http.Response {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				t.Cleanup(cancel)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", accept)
				req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { resp.Body.Close() })
				return resp
			}
			bob := idp.Token(resource, "bob")
			for i := range 2 * learnAfter {
				resp := post(bob, tc.accept, tc.body)
				if b, _ := io.ReadAll(resp.Body); resp.StatusCode != tc.status {
					t.Fatalf("bob's call %d: %d %q, want %d", i, resp.StatusCode, b, tc.status)
				}
			}
			resp := post(idp.Token(resource, "alice"), "application/json, text/event-stream",
				coretest.RPC("tools/call", `{"name":"echo","arguments":{},"_meta":{"progressToken":"p"}}`))
			br := bufio.NewReader(resp.Body)
			var first string
			for !strings.HasPrefix(first, "data:") {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("%d %s: %v before the first event", resp.StatusCode, resp.Header.Get("Content-Type"), err)
				}
				first = line
			}
			live := running.Load()
			close(release)
			rest, _ := io.ReadAll(br)
			if !live || !strings.Contains(first, "notifications/progress") || !strings.Contains(string(rest), `"done"`) {
				t.Errorf("first event %q (tool still running: %v), then %q: want the progress notification while the tool runs, then the result",
					first, live, rest)
			}
		})
	}
}
