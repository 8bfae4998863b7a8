package fibermcp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
)

// onWorker reports whether the calling handler runs on a goroutine of the
// bridge's pool rather than on fasthttp's.
func onWorker() bool {
	buf := make([]byte, 64<<10)
	return strings.Contains(string(buf[:runtime.Stack(buf, false)]), "adapters/fiber.(*workers).work")
}

// rawRequest sends one request on a new connection, asking the server to
// close it, and returns everything the server sent before it closed.
func rawRequest(t *testing.T, addr, method, path string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET-TOKEN-VALUE\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", method, path)
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("%s %s: %v (read %q)", method, path, err, b)
	}
	return string(b)
}

// TestBufferedHandler: with HandlerConfig.Buffered a POST or DELETE runs
// on fasthttp's goroutine and its response goes out whole (with a
// Content-Length), while a GET still runs on the pool and streams; a
// handler that flushes a POST fails loudly (context cancelled, later
// writes fail, an Error logged without header values, a 500 or a closed
// connection), and the server keeps serving.
func TestBufferedHandler(t *testing.T) {
	logs := &lockedBuffer{}
	cfg := fibermcp.HandlerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), Buffered: true}
	released := make(chan struct{})
	after := make(chan string, 1) // what an inline handler saw after its Flush
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/echo", withPrincipal, fibermcp.HandlerWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, "%s worker=%v ", r.Method, onWorker())
		_, _ = w.Write(b)
	}), cfg))
	app.Get("/stream", withPrincipal, fibermcp.HandlerWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprintf(w, "data: worker=%v\n\n", onWorker())
		w.(http.Flusher).Flush()
		select { // the client read the first event before the handler returned
		case <-released:
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, "data: 2\n\n")
	}), cfg))
	flusher := func(write bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("X-Handler", "1")
			if write { // the header is written with it
				_, _ = io.WriteString(w, "data: partial\n\n")
			}
			w.(http.Flusher).Flush()
			_, err := io.WriteString(w, "data: more\n\n")
			after <- fmt.Sprintf("ctx=%v write=%v", r.Context().Err(), err != nil)
		}
	}
	app.Post("/flush", withPrincipal, fibermcp.HandlerWith(flusher(false), cfg))
	app.Post("/flushafterwrite", withPrincipal, fibermcp.HandlerWith(flusher(true), cfg))
	addr := strings.TrimPrefix(serve(t, app), "http://")

	for _, tc := range []struct {
		name, method, path string
		status             string // "" if the connection must close without a response
		body               string // contained in the response
		logged             bool   // the Buffered misuse is logged
	}{
		{name: "POST inline and whole", method: "POST", path: "/echo", status: "HTTP/1.1 200", body: "Content-Length: 20\r\nConnection: close\r\n\r\nPOST worker=false {}"},
		{name: "DELETE inline and whole", method: "DELETE", path: "/echo", status: "HTTP/1.1 200", body: "DELETE worker=false {}"},
		{name: "GET on the pool", method: "GET", path: "/echo", status: "HTTP/1.1 200", body: "GET worker=true {}"},
		{name: "Flush first", method: "POST", path: "/flush", status: "HTTP/1.1 500", body: "Internal Server Error\n", logged: true},
		{name: "Flush after a write", method: "POST", path: "/flushafterwrite", logged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rawRequest(t, addr, tc.method, tc.path)
			if tc.status == "" {
				if got != "" {
					t.Errorf("want the connection closed without a response, got %q", got)
				}
			} else if !strings.HasPrefix(got, tc.status) || !strings.Contains(got, tc.body) {
				t.Errorf("response %q, want %q with %q", got, tc.status, tc.body)
			}
			if strings.Contains(got, "chunked") || strings.Contains(got, "partial") || strings.Contains(got, "X-Handler") {
				t.Errorf("response %q: streamed, or the refused response leaked", got)
			}
			log := logs.take()
			if tc.logged {
				if s := <-after; s != "ctx=context canceled write=true" {
					t.Errorf("after Flush: %s, want the context cancelled and the write failed", s)
				}
				if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "Buffered") || !strings.Contains(log, tc.path) {
					t.Errorf("log %q, want an Error naming Buffered and the path", log)
				}
			} else if log != "" {
				t.Errorf("logged %q, want nothing", log)
			}
			if strings.Contains(log, "SECRET-TOKEN-VALUE") {
				t.Error("the Authorization value leaked")
			}
		})
	}

	t.Run("GET streams", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET /stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		first, err := br.ReadString('\n')
		close(released)
		if err != nil || first != "data: worker=true\n" {
			t.Fatalf("first line %q %v, want the first event before the handler returned", first, err)
		}
		rest, err := io.ReadAll(br)
		if err != nil || string(rest) != "\ndata: 2\n\n" {
			t.Errorf("rest %q %v", rest, err)
		}
	})
}

// TestBufferedPanicParity: a panic in an inline handler (Buffered) gets
// what the same panic gets on the pool: the same response or closed
// connection, and the same log.
func TestBufferedPanicParity(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"/before": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Handler", "1")
			panic("boom before")
		},
		"/afterheader": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, "partial")
			panic("boom after header")
		},
		"/abort": func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) },
	}
	type outcome struct{ response, log string }
	run := func(buffered bool) map[string]outcome {
		logs := &lockedBuffer{}
		cfg := fibermcp.HandlerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), Buffered: buffered}
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		for path, h := range handlers {
			app.Post(path, withPrincipal, fibermcp.HandlerWith(h, cfg))
		}
		addr := strings.TrimPrefix(serve(t, app), "http://")
		out := map[string]outcome{}
		for path := range handlers {
			resp := rawRequest(t, addr, "POST", path)
			if i := strings.Index(resp, "Date: "); i >= 0 { // the only field that may differ
				resp = resp[:i] + resp[i+strings.Index(resp[i:], "\r\n"):]
			}
			log := logs.take()
			if i := strings.Index(log, "stack="); i >= 0 {
				log = log[:i] // the stacks differ: a worker's, fasthttp's goroutine
			}
			if i := strings.Index(log, "level="); i >= 0 {
				log = log[i:] // no time
			}
			out[path] = outcome{resp, log}
		}
		return out
	}
	pool, inline := run(false), run(true)
	for path := range handlers {
		if pool[path] != inline[path] {
			t.Errorf("%s: Buffered %+v, pool %+v", path, inline[path], pool[path])
		}
	}
	if o := inline["/before"]; !strings.HasPrefix(o.response, "HTTP/1.1 500") || !strings.Contains(o.log, "boom before") {
		t.Errorf("/before: %+v, want a 500 and the panic logged", o)
	}
}

// TestBufferedGoSDK: a stateful go-sdk server with JSON responses works
// under Buffered (initialize, tool call and DELETE inline; the GET stream
// on the pool carries a notification), and a stateful server with SSE
// responses, wrongly mounted with Buffered, fails loudly within a bounded
// time instead of hanging.
func TestBufferedGoSDK(t *testing.T) {
	for _, tc := range []struct {
		name string
		json bool
	}{{"JSONResponse", true}, {"SSE responses", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := mcp.NewServer(&mcp.Implementation{Name: "buffered", Version: "1.0.0"}, nil)
			tool := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil
			}
			s.AddTool(&mcp.Tool{Name: "t1", InputSchema: map[string]any{"type": "object"}}, tool)
			sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
				&mcp.StreamableHTTPOptions{JSONResponse: tc.json})
			logs := &lockedBuffer{}
			cfg := fibermcp.HandlerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), Buffered: true}
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.All("/mcp", withPrincipal, fibermcp.HandlerWith(sdk, cfg))
			base := serve(t, app)

			cl, changed := listChangedClient()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			hc := &http.Client{Transport: bearer{}, Timeout: 10 * time.Second}
			start := time.Now()
			sess, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: hc, MaxRetries: -1}, nil)
			if !tc.json {
				if err == nil {
					sess.Close()
					t.Fatal("connected to an SSE server mounted with Buffered")
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("failed after %v, want at once", d)
				}
				if log := logs.take(); !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "Buffered") {
					t.Errorf("log %q, want an Error naming Buffered", log)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "t1"})
			if err != nil || res.IsError || len(res.Content) != 1 {
				t.Fatalf("tools/call: %v %+v", err, res)
			}
			awaitListChanged(ctx, t, s, tool, changed)
			if err := sess.Close(); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("close (DELETE): %v", err)
			}
			if log := logs.take(); log != "" {
				t.Errorf("logged %q, want nothing", log)
			}
		})
	}
}

// bearer adds an Authorization field, which the go-sdk's own check wants
// (the principal is withPrincipal's).
type bearer struct{}

func (bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer x")
	return http.DefaultTransport.RoundTrip(r)
}

// listChangedClient is a go-sdk client that signals each tools/list_changed
// notification on the channel (once while unread).
func listChangedClient() (*mcp.Client, <-chan struct{}) {
	changed := make(chan struct{}, 1)
	cl := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1.0.0"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		}})
	return cl, changed
}

// awaitListChanged adds tools to s until the client of changed
// (listChangedClient) reports the notification, which goes on the GET
// stream of its session: the list may change before the stream is open,
// so it repeats every 100 ms until ctx ends.
func awaitListChanged(ctx context.Context, t *testing.T, s *mcp.Server, tool mcp.ToolHandler, changed <-chan struct{}) {
	t.Helper()
	for i := 2; ; i++ {
		s.AddTool(&mcp.Tool{Name: fmt.Sprintf("t%d", i), InputSchema: map[string]any{"type": "object"}}, tool)
		select {
		case <-changed:
			return
		case <-time.After(100 * time.Millisecond):
			if ctx.Err() != nil {
				t.Fatal("no tools/list_changed notification on the GET stream")
			}
		}
	}
}
