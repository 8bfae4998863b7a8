package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// Defaults shared by the discovery and token code.
const (
	// DefaultMaxResponseBytes bounds every metadata and token response body.
	DefaultMaxResponseBytes = 256 << 10
	// DefaultHTTPTimeout is the timeout of the HTTP client used when none is
	// configured.
	DefaultHTTPTimeout = 15 * time.Second
)

// defaultHTTPClient returns the client used for metadata and token requests
// when the configuration has none: a timeout and no redirects (a redirected
// metadata or token request is an error, never silently followed).
func defaultHTTPClient() *http.Client { return httpx.NoRedirects(nil, DefaultHTTPTimeout) }

// withoutRedirects returns a copy of hc that never follows a redirect,
// whatever hc's own CheckRedirect does: metadata and token requests answer
// a 3xx with an error, so a URL that checkURL and checkReach never saw is
// never reached and a token request's form is never re-sent elsewhere.
func withoutRedirects(hc *http.Client) *http.Client { return httpx.NoRedirects(hc, 0) }

// decodeStrict validates data with internal/jsonscan and decodes it into v.
func decodeStrict(data []byte, v any) error {
	if err := jsonscan.Validate(data, jsonscan.Options{MaxDepth: 16}); err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// getJSON fetches u with GET and decodes a 200 application/json body
// strictly into v. It returns the HTTP status (0 on transport errors) so
// callers can move to the next candidate URL on 404.
func getJSON(ctx context.Context, hc *http.Client, u string, limit int64, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := withoutRedirects(hc).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
		return resp.StatusCode, fmt.Errorf("GET %s: HTTP %d", bounded(u), resp.StatusCode)
	}
	if !httpx.IsJSON(resp.Header.Get("Content-Type")) {
		return resp.StatusCode, fmt.Errorf("GET %s: content type %s is not application/json", bounded(u), clip.Quote(resp.Header.Get("Content-Type"), core.MaxLogField))
	}
	body, err := httpx.ReadBounded(resp.Body, limit)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("GET %s: %w", bounded(u), err)
	}
	if err := decodeStrict(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("GET %s: %w", bounded(u), err)
	}
	return resp.StatusCode, nil
}

// checkURL is httpx.CheckURL (absolute, no user info or fragment; https,
// or http on a loopback host or when allowHTTP is set) with the package's
// errors: ErrInsecureURL for a refused scheme, ErrConfig otherwise. URLs
// come from servers' documents, so the errors name them cut to a log field.
func checkURL(raw string, allowHTTP bool) (*url.URL, error) {
	u, err := httpx.CheckURL(raw, allowHTTP)
	switch {
	case errors.Is(err, httpx.ErrInsecureURL):
		return nil, fmt.Errorf("%w: %s", ErrInsecureURL, clip.Quote(raw, core.MaxLogField))
	case err != nil:
		return nil, fmt.Errorf("%w: %s %v", ErrConfig, clip.Quote(raw, core.MaxLogField), err)
	}
	return u, nil
}

// Reach of a host from the client, for checkReach. Names are not resolved:
// a public name that resolves to a private address is not caught here.
const (
	reachRemote  = iota // any other host
	reachNetwork        // a private, link-local or shared address literal
	reachMachine        // the client's own machine: localhost names, loopback or unspecified addresses
)

func hostReach(h string) int {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return reachMachine
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return reachRemote
	}
	a = a.Unmap()
	switch {
	case a.IsLoopback() || a.IsUnspecified():
		return reachMachine
	case a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || sharedCGNAT.Contains(a):
		return reachNetwork
	}
	return reachRemote
}

var sharedCGNAT = netip.MustParsePrefix("100.64.0.0/10")

// checkReach refuses a URL that an MCP server's answers (its challenge, its
// metadata, its authorization server's metadata) point at, when the URL is
// closer to the client than the server itself: a remote server must not
// make the client send requests to the client's own machine or private
// network (request forgery; 169.254.169.254 is a cloud metadata service).
// A server on loopback or a private address may name hosts as close as
// itself.
func checkReach(what, raw string, server *url.URL) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDiscovery, what, err)
	}
	if hostReach(u.Hostname()) > hostReach(server.Hostname()) {
		return fmt.Errorf("%w: %s %s is on the client's own machine or network, the MCP server %q is not",
			ErrDiscovery, what, clip.Quote(raw, core.MaxLogField), server.Host)
	}
	return nil
}

// origin returns scheme://host of u (host as written, with port).
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
