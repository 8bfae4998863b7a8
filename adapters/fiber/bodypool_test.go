package fibermcp

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestPooledBodiesIsolated: the pooled buffers (a streamed request body
// read for Check, the handler's copy of the request body, the response
// written into fasthttp's body buffer) never mix two requests: concurrent
// clients with bodies of different sizes over loopback, with
// StreamRequestBody, each get their own body echoed back.
func TestPooledBodiesIsolated(t *testing.T) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: true})
	app.Post("/echo", func(c *fiber.Ctx) error {
		// What New does before the handler: read a streamed body with the limit.
		if _, err := (fastBody{c.Request()}).ReadBody(1 << 20); err != nil {
			return err
		}
		c.SetUserContext(core.WithPrincipal(c.UserContext(), &core.Principal{Subject: "alice"}))
		return c.Next()
	}, Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for i := 0; i < len(b); i += 100 { // several writes into the response
			_, _ = w.Write(b[i:min(i+100, len(b))])
		}
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second); <-done })
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				body := strings.Repeat(fmt.Sprintf("<%d.%d>", g, i), 1+(g*37+i*11)%400)
				req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/echo", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer x") // SDKHandler wants one; the principal is set above
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(got) != body {
					t.Errorf("client %d request %d: status %d, %d bytes back for %d sent", g, i, resp.StatusCode, len(got), len(body))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestStreamedBodyRead: a streamed body is read with the limit and put
// back as the request's own (not streamed) body; over the limit it is
// ErrBodyTooLarge.
func TestStreamedBodyRead(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 511, 512, 513, 5000} {
		data := bytes.Repeat([]byte{'x'}, n)
		var req fasthttp.Request
		req.SetBodyStream(bytes.NewReader(data), -1)
		got, err := (fastBody{&req}).ReadBody(1 << 20)
		if err != nil || !bytes.Equal(got, data) || !bytes.Equal(req.Body(), data) || req.IsBodyStream() {
			t.Errorf("%d bytes: got %d bytes, err %v, stream %v", n, len(got), err, req.IsBodyStream())
		}
	}
	var req fasthttp.Request
	req.SetBodyStream(bytes.NewReader(make([]byte, 101)), -1)
	if _, err := (fastBody{&req}).ReadBody(100); err != core.ErrBodyTooLarge {
		t.Errorf("over the limit: %v, want ErrBodyTooLarge", err)
	}
}
