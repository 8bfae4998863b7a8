package fibermcp_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
)

// lockedBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// TestHandlerRecoversPanics: a panic in the handler behind Handler is
// recovered (the process survives), logged without request secrets, and
// answered as net/http would; the server keeps serving.
func TestHandlerRecoversPanics(t *testing.T) {
	logs := &lockedBuffer{}
	cfg := fibermcp.HandlerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil))}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	mount := func(path string, h http.HandlerFunc) { app.Get(path, withPrincipal, fibermcp.HandlerWith(h, cfg)) }
	mount("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "fine") })
	mount("/before", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", "1") // never sent: nothing was written
		panic("boom before")
	})
	mount("/afterheader", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "partial")
		panic("boom after header")
	})
	mount("/midstream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "data: 2\n\n")
		w.(http.Flusher).Flush()
		panic("boom mid stream")
	})
	mount("/abortstream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	mount("/abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	addr := strings.TrimPrefix(serve(t, app), "http://")

	for _, tc := range []struct {
		path     string
		status   string // "" if the connection must close without a response
		body     string // contained in the response
		logged   string // in the log; "" if nothing may be logged
		notInAll string // in neither the response nor the log
		cut      bool   // a chunked stream that must end without its last chunk
	}{
		{path: "/before", status: "HTTP/1.1 500", body: "Internal Server Error", logged: "boom before", notInAll: "X-Handler"},
		{path: "/afterheader", logged: "boom after header", notInAll: "partial"},
		{path: "/midstream", status: "HTTP/1.1 200", body: "data: 1\n\ndata: 2\n\n", logged: "boom mid stream", cut: true},
		{path: "/abortstream", status: "HTTP/1.1 200", body: "data: 1\n\n", cut: true},
		{path: "/abort"},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			got := rawRequest(t, addr, "GET", tc.path)
			if tc.status == "" {
				if got != "" {
					t.Errorf("want the connection closed without a response, got %q", got)
				}
			} else if !strings.HasPrefix(got, tc.status) || !strings.Contains(dechunked(got), tc.body) {
				t.Errorf("response %q, want %q with %q", got, tc.status, tc.body)
			}
			if ended := strings.HasSuffix(got, "\r\n0\r\n\r\n"); tc.cut && ended {
				t.Errorf("the stream ended cleanly, want it cut: %q", got)
			}
			var log string
			for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if log += logs.take(); tc.logged == "" || strings.Contains(log, tc.logged) || time.Now().After(deadline) {
					break
				}
			}
			switch {
			case tc.logged == "" && log != "":
				t.Errorf("logged %q, want nothing", log)
			case tc.logged != "" && (!strings.Contains(log, "handler panicked") || !strings.Contains(log, tc.logged) || !strings.Contains(log, tc.path)):
				t.Errorf("log %q, want the panic %q and the path", log, tc.logged)
			}
			if strings.Contains(log, "SECRET-TOKEN-VALUE") || strings.Contains(got, "SECRET-TOKEN-VALUE") {
				t.Error("the Authorization value leaked")
			}
			if tc.notInAll != "" && (strings.Contains(log, tc.notInAll) || strings.Contains(got, tc.notInAll)) {
				t.Errorf("%q reached the client or the log", tc.notInAll)
			}
			if ok := rawRequest(t, addr, "GET", "/ok"); !strings.HasPrefix(ok, "HTTP/1.1 200") || !strings.HasSuffix(ok, "fine") {
				t.Errorf("after the panic: %q", ok)
			}
		})
	}
}

// dechunked returns the body of the raw response resp, decoded when it is
// chunked (up to where a cut stream stops): how the stream writer's chunks
// are split depends on when fasthttp reads them.
func dechunked(resp string) string {
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	if !strings.Contains(head, "\r\nTransfer-Encoding: chunked") {
		return body
	}
	b, _ := io.ReadAll(httputil.NewChunkedReader(strings.NewReader(body))) // a cut stream ends in an error
	return string(b)
}

// TestHandlerKeepAliveEndsQuietStreams: an idle event stream gets SSE
// comments at the configured interval, only between events; when its
// client leaves, a failing comment cancels the handler's context and both
// goroutines end, without a server shutdown. A flushed response that is not
// an event stream, and an event stream paused inside an event, get no
// comment.
func TestHandlerKeepAliveEndsQuietStreams(t *testing.T) {
	const every = 30 * time.Millisecond
	ended := make(chan string, 8)
	cfg := fibermcp.HandlerConfig{KeepAlive: every}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	quiet := func(ct, first string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			defer func() { ended <- r.URL.Path }()
			w.Header().Set("Content-Type", ct)
			_, _ = io.WriteString(w, first)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // a GET stream with nothing more to send
		}
	}
	app.Get("/sse", withPrincipal, fibermcp.HandlerWith(quiet("text/event-stream", "event: open\ndata: x\n\n"), cfg))
	app.Get("/json", withPrincipal, fibermcp.HandlerWith(quiet("application/json", `{"a":1}`), cfg))
	app.Get("/midevent", withPrincipal, fibermcp.HandlerWith(quiet("text/event-stream; charset=utf-8", "data: x\n"), cfg))
	addr := strings.TrimPrefix(serve(t, app), "http://")

	open := func(path string) (net.Conn, *bufio.Reader) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n", path)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		return conn, bufio.NewReader(resp.Body)
	}

	// The event stream: the first event, then only comments.
	conn, br := open("/sse")
	var got strings.Builder
	for strings.Count(got.String(), ": \n\n") < 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading %q: %v", got.String(), err)
		}
		got.WriteString(line)
	}
	if want := "event: open\ndata: x\n\n: \n\n: \n\n: \n\n"; got.String() != want {
		t.Errorf("stream %q, want %q", got.String(), want)
	}
	start := time.Now()
	conn.Close()
	select {
	case p := <-ended:
		if p != "/sse" {
			t.Fatalf("%s ended, want /sse", p)
		}
		t.Logf("handler ended %v after its client left", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("the quiet event stream did not end after its client left")
	}
	deadline := time.Now().Add(5 * time.Second)
	for streamGoroutines() != "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := streamGoroutines(); s != "" {
		t.Errorf("goroutines left after the client left:\n%s", s)
	}

	// No comment: not an event stream, or paused inside an event.
	for path, first := range map[string]string{"/json": `{"a":1}`, "/midevent": "data: x\n"} {
		conn, br := open(path)
		b := make([]byte, len(first))
		if _, err := io.ReadFull(br, b); err != nil || string(b) != first {
			t.Errorf("%s: %q %v, want %q", path, b, err, first)
		}
		_ = conn.SetReadDeadline(time.Now().Add(6 * every))
		more, err := io.ReadAll(br)
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Errorf("%s: %v, want a read timeout", path, err)
		}
		if len(more) > 0 {
			t.Errorf("%s: %q after %q, want nothing more", path, more, first)
		}
		conn.Close()
	}
}

// streamGoroutines returns the stacks of goroutines still running the
// bridge's stream writer or a handler of TestHandlerKeepAliveEndsQuietStreams.
func streamGoroutines() string {
	buf := make([]byte, 1<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "adapters/fiber.(*streamWriter).pump") || strings.Contains(g, "TestHandlerKeepAliveEndsQuietStreams.func") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// TestHandlerLogPathBounded: the path in the bridge's log records (a
// recovered panic, a flush under Buffered) is cut to core.MaxLogPath, as
// in the Guard's audit records: a request line can carry a path of
// nearly fasthttp's whole 4 KiB header buffer.
func TestHandlerLogPathBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  fibermcp.HandlerConfig
		h    http.HandlerFunc
	}{
		{"panic", fibermcp.HandlerConfig{}, func(http.ResponseWriter, *http.Request) { panic("boom") }},
		{"buffered flush", fibermcp.HandlerConfig{Buffered: true}, func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "data: 1\n\n")
			w.(http.Flusher).Flush()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &lockedBuffer{}
			tc.cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.All("/*", withPrincipal, fibermcp.HandlerWith(tc.h, tc.cfg))
			base := serve(t, app)
			path := "/" + strings.Repeat("p", 3000)
			req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer x") // the SDK wrapper's check; the principal is withPrincipal's
			// The answer does not matter here (a flush after the header
			// under Buffered closes the connection): only the log does.
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			var rec struct{ Path string }
			line, _, _ := strings.Cut(logs.take(), "\n")
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line %.200q: %v", line, err)
			}
			if !strings.HasPrefix(rec.Path, "/ppp") || len(rec.Path) > core.MaxLogPath {
				t.Errorf("logged path of %d bytes (starts %.20q), want at most %d", len(rec.Path), rec.Path, core.MaxLogPath)
			}
		})
	}
}
