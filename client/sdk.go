package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"golang.org/x/oauth2"
)

// OAuthHandler returns an adapter to the go-sdk auth.OAuthHandler interface,
// for mcp.StreamableClientTransport.OAuthHandler. TokenSource returns nil
// until the first discovery (the SDK then sends the request without a token
// and calls Authorize on the 401). Authorize handles 401 (discovery +
// token) and 403 insufficient_scope (one step-up per failed request, since
// the SDK retries once); any other 403 fails with ErrForbidden.
//
// Use either this adapter or [Transport], not both on one connection.
func (a *Authorizer) OAuthHandler() auth.OAuthHandler { return sdkHandler{a: a} }

type sdkHandler struct{ a *Authorizer }

var _ auth.OAuthHandler = sdkHandler{}

// TokenSource implements auth.OAuthHandler.
func (h sdkHandler) TokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	if h.a.Discovery() == nil {
		return nil, nil
	}
	return tokenSourceFunc(func() (*oauth2.Token, error) {
		t, err := h.a.Token(ctx)
		if err != nil {
			return nil, err
		}
		return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}, nil
	}), nil
}

// Authorize implements auth.OAuthHandler. It closes resp.Body.
func (h sdkHandler) Authorize(ctx context.Context, req *http.Request, resp *http.Response) error {
	defer drainClose(resp)
	sent := bearerFromHeader(req.Header)
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return h.a.HandleUnauthorized(ctx, resp.Header, sent)
	case http.StatusForbidden:
		return h.a.HandleInsufficientScope(ctx, resp.Header, sent)
	}
	return fmt.Errorf("%w: unexpected HTTP %d", ErrForbidden, resp.StatusCode)
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }
