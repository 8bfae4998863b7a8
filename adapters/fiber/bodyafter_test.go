package fibermcp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestBodyReadAfterReturn: a request body read after its handler returned
// (an http.Transport may still be sending it upstream when the upstream
// answered early, and a handler's goroutine may outlive it) gets an error
// and no bytes, as net/http's own body does, never the pooled copy (or,
// with Buffered, fasthttp's request buffer), which by then holds another
// request's body, and not even its own body once the response is out. Run
// with -race: the late read of the released buffer races with its reuse.
func TestBodyReadAfterReturn(t *testing.T) {
	tests := []struct {
		name string
		read func(io.Reader) ([]byte, error)
	}{
		{"Read", func(r io.Reader) ([]byte, error) {
			p := make([]byte, 64<<10)
			n, err := r.Read(p)
			return p[:n], err
		}},
		{"io.Copy (WriterTo)", func(r io.Reader) ([]byte, error) {
			var b bytes.Buffer
			_, err := io.Copy(&b, r)
			if err == nil {
				err = io.EOF // a copy that returned nil read to the end: bytes it had no right to
			}
			return b.Bytes(), err
		}},
	}
	for _, tt := range tests {
		for _, buffered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s buffered=%v", tt.name, buffered), func(t *testing.T) {
				kept := make(chan io.Reader, 1)
				app := fiber.New(fiber.Config{DisableStartupMessage: true})
				app.Post("/", func(c *fiber.Ctx) error {
					c.SetUserContext(core.WithPrincipal(c.UserContext(), &core.Principal{Subject: "alice"}))
					return c.Next()
				}, HandlerWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("X-Keep") != "" {
						kept <- r.Body // read later, after this handler returned
						return
					}
					b, _ := io.ReadAll(r.Body)
					_, _ = w.Write(b)
				}), HandlerConfig{Buffered: buffered}))
				post := func(body string, keep bool) {
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
					got, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !keep && string(got) != body {
						t.Fatalf("echo: %d bytes back for %d", len(got), len(body))
					}
				}
				for i := range 20 {
					post(strings.Repeat("secret-of-the-first-request ", 10), true)
					body := <-kept
					for j := range 4 { // other requests reuse the released copy
						post(strings.Repeat(fmt.Sprintf("other-%d-%d ", i, j), 20), false)
					}
					got, err := tt.read(body)
					if len(got) != 0 || err == nil || err == io.EOF {
						t.Fatalf("round %d: read after the handler returned: %d bytes (%.40q), err %v; want no bytes and an error", i, len(got), got, err)
					}
				}
			})
		}
	}
}
