package fibermcp

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestWriteAfterReturn: a write through a ResponseWriter whose handler
// returned (a goroutine of the handler that outlives it) fails, as a read
// of its body does (TestBodyReadAfterReturn), and goes nowhere: not into
// the fasthttp response, which by then belongs to another request, and,
// after a flush, not onto the stream's closed channel (a panic that ended
// the process); a late Flush does nothing (it closed a closed channel).
func TestWriteAfterReturn(t *testing.T) {
	for _, tc := range []struct {
		name            string
		buffered, flush bool
	}{
		{"pooled", false, false},
		{"pooled, flushed", false, true},
		{"buffered", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kept := make(chan http.ResponseWriter, 1)
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Post("/", func(c *fiber.Ctx) error {
				c.SetUserContext(core.WithPrincipal(c.UserContext(), &core.Principal{Subject: "alice"}))
				return c.Next()
			}, HandlerWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Keep") != "" {
					if tc.flush {
						w.(http.Flusher).Flush()
					}
					kept <- w // written later, after this handler returned
					return
				}
				b, _ := io.ReadAll(r.Body)
				_, _ = w.Write(b)
			}), HandlerConfig{Buffered: tc.buffered}))
			post := func(body string, keep bool) string {
				t.Helper()
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer x")
				if keep {
					req.Header.Set("X-Keep", "1")
				}
				resp, err := app.Test(req, -1)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				got, _ := io.ReadAll(resp.Body)
				return string(got)
			}
			for i := range 10 {
				post("first", true)
				w := <-kept
				if n, err := w.Write([]byte("late-write ")); n != 0 || err == nil {
					t.Fatalf("round %d: a write after the handler returned: %d, %v; want 0 and an error", i, n, err)
				}
				w.(http.Flusher).Flush() // does nothing
				w.WriteHeader(http.StatusTeapot)
				body := fmt.Sprintf("other-%d", i)
				if got := post(body, false); got != body {
					t.Fatalf("round %d: the next request got %q, want %q", i, got, body)
				}
			}
		})
	}
}

// TestWriteRacingReturn: a goroutine of a streaming handler that writes
// while the handler returns ends with an error, never a send on the
// stream's closed channel (which no recover of the handler's catches).
func TestWriteRacingReturn(t *testing.T) {
	done := make(chan error, 1)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/", func(c *fiber.Ctx) error {
		c.SetUserContext(core.WithPrincipal(c.UserContext(), &core.Principal{Subject: "alice"}))
		return c.Next()
	}, Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		started := make(chan struct{})
		go func() {
			close(started)
			for range 1 << 20 { // bounded: ends at the first failing write
				if _, err := w.Write([]byte("x")); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		<-started
	})))
	for i := range 50 {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer x")
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err := <-done; err == nil {
			t.Fatalf("round %d: the writer never failed", i)
		}
	}
}

// TestFlushRacingReturn: a goroutine of the handler whose first Flush
// races the handler's return (its buffered bytes sent as the stream's
// first chunk while finish ends the stream) never sends on the stream's
// closed channel.
func TestFlushRacingReturn(t *testing.T) {
	done := make(chan struct{}, 1)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/", func(c *fiber.Ctx) error {
		c.SetUserContext(core.WithPrincipal(c.UserContext(), &core.Principal{Subject: "alice"}))
		return c.Next()
	}, Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("first"))
		started := make(chan struct{})
		go func() {
			close(started)
			w.(http.Flusher).Flush()
			done <- struct{}{}
		}()
		<-started
	})))
	for i := range 4000 { // bounded; on main one run in two or three panicked
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer x")
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		<-done
		if string(got) != "first" {
			t.Fatalf("round %d: body %q, want the bytes written before the flush", i, got)
		}
	}
}
