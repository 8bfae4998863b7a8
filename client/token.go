package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// Token is an access token obtained from an authorization server.
type Token struct {
	// AccessToken is the bearer token. Never log it.
	AccessToken string
	// TokenType is "Bearer" (the only type this package accepts).
	TokenType string
	// Expiry is when the token expires; zero when the server sent no
	// expires_in (the token is then used until the server rejects it).
	Expiry time.Time
	// Scopes are the granted scopes: the response "scope" when present,
	// else the requested scopes (RFC 6749 §5.1).
	Scopes []string
}

// tokenResponse is the RFC 6749 §5.1 / RFC 8693 §2.2.1 success body.
type tokenResponse struct {
	AccessToken     string       `json:"access_token"`
	TokenType       string       `json:"token_type"`
	ExpiresIn       *json.Number `json:"expires_in"`
	Scope           *string      `json:"scope"`
	IssuedTokenType string       `json:"issued_token_type"`
}

// errorResponse is the RFC 6749 §5.2 error body.
type errorResponse struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// postForm sends form to endpoint (after auth adds client authentication)
// and decodes a strict JSON success body. Non-2xx responses with an RFC 6749
// error body become *OAuthError; everything else wraps ErrTokenResponse.
func postForm(ctx context.Context, hc *http.Client, endpoint, leg string, form url.Values, maxBody int64,
	auth func(*http.Request, url.Values) error) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := auth(req, form); err != nil {
		return nil, err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// A followed redirect would re-send the form (secret, assertion,
	// ID-JAG) to the Location.
	resp, err := withoutRedirects(hc).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s request: %w", ErrTokenResponse, leg, redactURLError(err))
	}
	defer resp.Body.Close()
	data, err := httpx.ReadBounded(resp.Body, maxBody)
	if err != nil {
		return nil, fmt.Errorf("%w: %s response: %w", ErrTokenResponse, leg, err)
	}
	if resp.StatusCode != http.StatusOK {
		var er errorResponse
		if httpx.IsJSON(resp.Header.Get("Content-Type")) && decodeStrict(data, &er) == nil && er.Error != "" {
			// The server chose these strings (up to maxBody bytes); they end
			// up in logs, so they are cut to the bound of a log field.
			return nil, &OAuthError{Code: bounded(er.Error), Description: bounded(er.ErrorDescription),
				URI: bounded(er.ErrorURI), Status: resp.StatusCode, Endpoint: leg}
		}
		return nil, fmt.Errorf("%w: %s endpoint answered HTTP %d without an OAuth error", ErrTokenResponse, leg, resp.StatusCode)
	}
	if !httpx.IsJSON(resp.Header.Get("Content-Type")) {
		return nil, fmt.Errorf("%w: %s response content type %s", ErrTokenResponse, leg, clip.Quote(resp.Header.Get("Content-Type"), core.MaxLogField))
	}
	var tr tokenResponse
	if err := decodeStrict(data, &tr); err != nil {
		return nil, fmt.Errorf("%w: %s response: %w", ErrTokenResponse, leg, err)
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("%w: %s response has no access_token", ErrTokenResponse, leg)
	}
	return &tr, nil
}

func bounded(s string) string { return core.TruncateField(s, core.MaxLogField) }

// redactURLError drops the *url.Error wrapper text, which repeats the URL,
// keeping the cause.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// toToken checks a Bearer token response and converts it.
func (tr *tokenResponse) toToken(leg string, requested []string, now time.Time) (*Token, error) {
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return nil, fmt.Errorf("%w: %s token_type %s is not Bearer", ErrTokenResponse, leg, clip.Quote(tr.TokenType, core.MaxLogField))
	}
	t := &Token{AccessToken: tr.AccessToken, TokenType: "Bearer", Scopes: requested}
	exp, err := tr.expiry(now)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTokenResponse, leg, err)
	}
	t.Expiry = exp
	if tr.Scope != nil {
		s, err := parseScope(*tr.Scope)
		if err != nil {
			return nil, fmt.Errorf("%w: %s scope: %w", ErrTokenResponse, leg, err)
		}
		t.Scopes = s
	}
	return t, nil
}

// expiry converts expires_in (a non-negative integer of seconds, at most ten
// years) into an absolute time; absent gives the zero time.
func (tr *tokenResponse) expiry(now time.Time) (time.Time, error) {
	if tr.ExpiresIn == nil {
		return time.Time{}, nil
	}
	n, err := tr.ExpiresIn.Int64()
	if err != nil || n < 0 || n > 10*365*24*3600 {
		return time.Time{}, fmt.Errorf("invalid expires_in %s", clip.Quote(tr.ExpiresIn.String(), core.MaxLogField))
	}
	return now.Add(time.Duration(n) * time.Second), nil
}
