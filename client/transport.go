package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// DefaultMaxReplayBytes bounds the request body the Transport buffers so it
// can resend the request after a 401 or 403.
const DefaultMaxReplayBytes = 8 << 20

// Transport is an http.RoundTripper that authorizes requests to one MCP
// server: it adds "Authorization: Bearer <token>" to requests for the
// server's origin (never to other origins), and on a 401 runs discovery and
// obtains a token, on a 403 insufficient_scope steps up (at most
// Config.MaxStepUps times per request), resending the request each time.
// The body is replayed from GetBody when set, else buffered (up to
// MaxReplayBytes; larger bodies fail with ErrBodyTooLarge).
//
// When a retry is not possible or not useful (a second 401, a 403 without an
// insufficient_scope challenge, a step-up that asks for nothing new or
// exceeds the budget) the server's response is returned unchanged. Errors
// from discovery or the authorization server are returned as errors
// (*OAuthError for RFC 6749 error responses).
type Transport struct {
	// Authorizer is REQUIRED.
	Authorizer *Authorizer
	// Base is OPTIONAL. Default http.DefaultTransport.
	Base http.RoundTripper
	// MaxReplayBytes is OPTIONAL. Default DefaultMaxReplayBytes.
	MaxReplayBytes int64
}

// HTTPClient returns an *http.Client whose transport is a [Transport] over
// base (nil: http.DefaultTransport), for example for
// mcp.StreamableClientTransport.HTTPClient.
func (a *Authorizer) HTTPClient(base http.RoundTripper) *http.Client {
	return &http.Client{Transport: &Transport{Authorizer: a, Base: base}}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	a := t.Authorizer
	if a == nil {
		closeBody(req)
		return nil, fmt.Errorf("%w: Transport.Authorizer is nil", ErrConfig)
	}
	if !a.sameOrigin(req.URL) {
		return base.RoundTrip(req)
	}
	getBody, err := t.replayableBody(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	send := func(tok *Token) (*http.Response, error) {
		r := req.Clone(ctx)
		if getBody != nil {
			b, err := getBody()
			if err != nil {
				return nil, err
			}
			r.Body, r.GetBody = b, getBody
		}
		if tok != nil {
			r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		return base.RoundTrip(r)
	}
	tok, err := a.Token(ctx)
	if err != nil && !errors.Is(err, ErrNotAuthorized) {
		return nil, err
	}
	resp, err := send(tok)
	retried401, stepUps := false, 0
	for err == nil {
		sent := ""
		if tok != nil {
			sent = tok.AccessToken
		}
		var herr error
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !retried401:
			retried401 = true
			herr = a.HandleUnauthorized(ctx, resp.Header, sent)
		case resp.StatusCode == http.StatusForbidden && stepUps < a.cfg.MaxStepUps && isInsufficientScope(resp.Header):
			stepUps++
			herr = a.HandleInsufficientScope(ctx, resp.Header, sent)
			if errors.Is(herr, ErrInsufficientScope) {
				return resp, nil
			}
		default:
			return resp, nil
		}
		drainClose(resp)
		if herr != nil {
			return nil, herr
		}
		if tok, err = a.Token(ctx); err != nil {
			return nil, err
		}
		resp, err = send(tok)
	}
	return nil, err
}

// replayableBody returns a function producing fresh copies of the request
// body, or nil for a request without one. It consumes and closes req.Body
// when it has to buffer it.
func (t *Transport) replayableBody(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		closeBody(req)
		return req.GetBody, nil
	}
	limit := t.MaxReplayBytes
	if limit <= 0 {
		limit = DefaultMaxReplayBytes
	}
	defer closeBody(req)
	data, err := httpx.ReadBounded(req.Body, limit)
	if errors.Is(err, httpx.ErrTooLarge) {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	if err != nil {
		return nil, err
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// drainClose reads a little of the body (so the connection can be reused)
// and closes it.
func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// isInsufficientScope is a cheap pre-check for a Bearer insufficient_scope
// challenge; the full parse happens in HandleInsufficientScope.
func isInsufficientScope(h http.Header) bool {
	bc, err := ParseBearerChallenge(h)
	return err == nil && bc != nil && bc.Error == "insufficient_scope"
}

// bearerFromHeader extracts the token of an "Authorization: Bearer" header.
func bearerFromHeader(h http.Header) string {
	v := h.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return v[7:]
	}
	return ""
}
