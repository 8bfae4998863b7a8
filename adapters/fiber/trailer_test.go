package fibermcp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestTrailerFieldsNotPastTheGuard: fasthttp adds the fields of a chunked
// body's trailer to the request header (any name but a few it forbids,
// declared or not), where net/http keeps them in Request.Trailer. With
// StreamRequestBody the trailer is read with the body, inside Check, after
// the Guard has taken the header's values; the handler after it then read
// an Mcp-Session-Id (or Mcp-Protocol-Version, Origin, ...) the Guard never
// checked: a request naming no session passed the binding check, and the
// handler saw another principal's session. No handler may see a field the
// Guard did not decide on: without StreamRequestBody the trailer is in the
// header before the Guard runs (an unknown session is refused); with it,
// a body that brings trailer fields is refused.
func TestTrailerFieldsNotPastTheGuard(t *testing.T) {
	t.Parallel()
	for _, streamed := range []bool{true, false} {
		t.Run(map[bool]string{true: "streamed", false: "buffered"}[streamed], func(t *testing.T) {
			t.Parallel()
			g, idp := coretest.NewSuiteGuard(t, resource, nil)
			app := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: streamed, DisablePreParseMultipartForm: true})
			seen := make(chan string, 4)
			app.Post("/api/mcp", fibermcp.New(g), func(c *fiber.Ctx) error {
				seen <- c.Get("Mcp-Session-Id")
				return c.SendString("ok")
			})
			base := serve(t, app)
			tok := idp.Token(resource, "alice")
			for _, tc := range []struct {
				name    string
				trailer http.Header
				want    int // status; 0: any refusal (4xx)
			}{
				{"no trailer", nil, http.StatusOK},
				{"session id", http.Header{"Mcp-Session-Id": {"s-of-another-principal"}}, 0},
				{"other field", http.Header{"X-Note": {"n"}}, -1}, // refused streamed, ignored buffered
			} {
				body := coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/mcp", io.NopCloser(strings.NewReader(body)))
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				req.ContentLength = -1 // chunked, so that a trailer can follow
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Trailer = tc.trailer
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					cancel()
					t.Fatalf("%s: %v", tc.name, err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				cancel()
				var handled []string
			drain:
				for {
					select {
					case s := <-seen:
						handled = append(handled, s)
					default:
						break drain
					}
				}
				switch {
				case tc.want == http.StatusOK && (resp.StatusCode != http.StatusOK || len(handled) != 1 || handled[0] != ""):
					t.Errorf("%s: status %d, handler saw %q", tc.name, resp.StatusCode, handled)
				case tc.want == 0 && (resp.StatusCode < 400 || resp.StatusCode > 499 || len(handled) != 0):
					t.Errorf("%s: status %d, handler saw session ids %q the Guard did not check", tc.name, resp.StatusCode, handled)
				case tc.want == -1 && streamed && (resp.StatusCode != http.StatusBadRequest || len(handled) != 0):
					t.Errorf("%s: status %d, handler ran %d times; want 400 before the handler", tc.name, resp.StatusCode, len(handled))
				case tc.want == -1 && !streamed && resp.StatusCode != http.StatusOK:
					t.Errorf("%s: status %d, want 200 (the Guard saw the header the handler sees)", tc.name, resp.StatusCode)
				}
			}
		})
	}
}
