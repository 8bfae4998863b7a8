package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
)

const (
	wellKnownPRM   = "/.well-known/oauth-protected-resource"
	wellKnownOAuth = "/.well-known/oauth-authorization-server"
	wellKnownOIDC  = "/.well-known/openid-configuration"
)

// Discovery is the result of resource and authorization server discovery.
type Discovery struct {
	// ServerURL is the MCP endpoint the discovery was made for.
	ServerURL string
	// Resource is the PRM resource identifier, sent as "resource" in every
	// token request.
	Resource string
	// PRM is the protected resource metadata document.
	PRM *ProtectedResourceMetadata
	// AuthServer is the issuer-checked metadata of the chosen authorization
	// server.
	AuthServer *AuthServerMetadata
	// Challenge is the Bearer challenge that triggered discovery (nil when
	// discovery ran without one).
	Challenge *BearerChallenge
}

// discoverer runs RFC 9728 + RFC 8414 discovery.
type discoverer struct {
	hc              *http.Client
	allowHTTP       bool
	allowLocal      bool // Config.AllowLocalDiscovery
	rootSameOrigin  bool
	maxBody         int64
	preferredIssuer func() string // bound or pinned issuer ("" = none)
	log             *slog.Logger
}

// discover fetches and validates the PRM for serverURL and the metadata of
// its authorization server. bc may be nil.
func (d *discoverer) discover(ctx context.Context, serverURL string, bc *BearerChallenge) (*Discovery, error) {
	su, err := checkURL(serverURL, d.allowHTTP)
	if err != nil {
		return nil, err
	}
	prm, err := d.fetchPRM(ctx, serverURL, su, bc)
	if err != nil {
		return nil, err
	}
	issuer, err := d.chooseIssuer(prm)
	if err != nil {
		return nil, err
	}
	if err := d.checkReach("authorization server", issuer, su); err != nil {
		return nil, err
	}
	asm, err := fetchAuthServerMetadata(ctx, d.hc, issuer, d.allowHTTP, d.maxBody)
	if err != nil {
		return nil, err
	}
	if err := d.checkReach("token_endpoint", asm.TokenEndpoint, su); err != nil {
		return nil, err
	}
	d.log.LogAttrs(ctx, slog.LevelDebug, "mcpauthz client: discovered authorization server",
		slog.String("resource", bounded(prm.Resource)), slog.String("iss", bounded(asm.Issuer)))
	return &Discovery{ServerURL: serverURL, Resource: prm.Resource, PRM: prm, AuthServer: asm, Challenge: bc}, nil
}

type prmCandidate struct {
	url  string
	root bool // root well-known document (same-origin tolerance applies)
}

func (d *discoverer) fetchPRM(ctx context.Context, serverURL string, su *url.URL, bc *BearerChallenge) (*ProtectedResourceMetadata, error) {
	var cands []prmCandidate
	if bc != nil && bc.ResourceMetadata != "" {
		if _, err := checkURL(bc.ResourceMetadata, d.allowHTTP); err != nil {
			return nil, fmt.Errorf("%w: resource_metadata: %w", ErrDiscovery, err)
		}
		if err := d.checkReach("resource_metadata", bc.ResourceMetadata, su); err != nil {
			return nil, err
		}
		cands = append(cands, prmCandidate{url: bc.ResourceMetadata})
	} else {
		p := strings.TrimSuffix(su.EscapedPath(), "/")
		if p != "" {
			cands = append(cands, prmCandidate{url: origin(su) + wellKnownPRM + p})
		}
		cands = append(cands, prmCandidate{url: origin(su) + wellKnownPRM, root: p != ""})
	}
	var errs []error
	for _, c := range cands {
		var prm ProtectedResourceMetadata
		status, err := getJSON(ctx, d.hc, c.url, d.maxBody, &prm)
		if err != nil {
			errs = append(errs, err)
			if status == http.StatusNotFound || status == 0 {
				continue
			}
			break
		}
		if err := d.checkResource(serverURL, su, prm.Resource, c.root); err != nil {
			return nil, err
		}
		if len(prm.AuthorizationServers) == 0 {
			return nil, fmt.Errorf("%w: %s lists no authorization_servers", ErrDiscovery, c.url)
		}
		return &prm, nil
	}
	return nil, fmt.Errorf("%w: protected resource metadata: %w", ErrDiscovery, errors.Join(errs...))
}

// checkResource applies RFC 9728 §3.3: the PRM resource must be identical
// to the server URL. For the root document (used only when the server URL has
// a path) the opt-in same-origin tolerance accepts a resource on the same
// origin whose path is a segment prefix of the server URL's path.
func (d *discoverer) checkResource(serverURL string, su *url.URL, resource string, root bool) error {
	if resource == serverURL {
		return nil
	}
	if root && d.rootSameOrigin {
		ru, err := url.Parse(resource)
		if err == nil && ru.Scheme == su.Scheme && ru.Host == su.Host && ru.RawQuery == "" && ru.Fragment == "" {
			rp := strings.TrimSuffix(ru.EscapedPath(), "/")
			sp := su.EscapedPath()
			if rp == "" || sp == rp || strings.HasPrefix(sp, rp+"/") {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: metadata names %s, server URL is %q", ErrResourceMismatch, clip.Quote(resource, core.MaxLogField), serverURL)
}

// chooseIssuer picks the authorization server: the bound/pinned issuer when
// there is one (it must be listed), else the first entry.
func (d *discoverer) chooseIssuer(prm *ProtectedResourceMetadata) (string, error) {
	if d.preferredIssuer != nil {
		if want := d.preferredIssuer(); want != "" {
			if containsString(prm.AuthorizationServers, want) {
				return want, nil
			}
			listed := clip.Quote(prm.AuthorizationServers[0], core.MaxLogField)
			if n := len(prm.AuthorizationServers) - 1; n > 0 {
				listed += fmt.Sprintf(" and %d more", n)
			}
			return "", fmt.Errorf("%w: resource lists %s, credentials are for %q", ErrIssuerBinding, listed, want)
		}
	}
	return prm.AuthorizationServers[0], nil
}

// authServerMetadataURLs returns the RFC 8414 §3.1 / OIDC Discovery
// candidate URLs for issuer, in the MCP order: OAuth path-insertion, OIDC
// path-insertion, OIDC path-append (issuer with a path); OAuth, OIDC (none).
func authServerMetadataURLs(iu *url.URL) []string {
	o := origin(iu)
	p := strings.TrimSuffix(iu.EscapedPath(), "/")
	if p == "" {
		return []string{o + wellKnownOAuth, o + wellKnownOIDC}
	}
	return []string{o + wellKnownOAuth + p, o + wellKnownOIDC + p, o + p + wellKnownOIDC}
}

// fetchAuthServerMetadata fetches the metadata of issuer, trying the
// candidate URLs in order (a 404 or transport error moves on). A document
// whose issuer is not identical to issuer is an error wrapping
// [ErrIssuerMismatch]; no further candidate is tried after it.
func fetchAuthServerMetadata(ctx context.Context, hc *http.Client, issuer string, allowHTTP bool, maxBody int64) (*AuthServerMetadata, error) {
	iu, err := checkURL(issuer, allowHTTP)
	if err != nil {
		return nil, fmt.Errorf("%w: issuer: %w", ErrDiscovery, err)
	}
	if iu.RawQuery != "" {
		return nil, fmt.Errorf("%w: issuer %s has a query", ErrDiscovery, clip.Quote(issuer, core.MaxLogField))
	}
	var errs []error
	for _, u := range authServerMetadataURLs(iu) {
		var m AuthServerMetadata
		status, err := getJSON(ctx, hc, u, maxBody, &m)
		if err != nil {
			errs = append(errs, err)
			if status == http.StatusNotFound || status == 0 {
				continue
			}
			break
		}
		if m.Issuer != issuer {
			return nil, fmt.Errorf("%w: %s has issuer %s, expected %s", ErrIssuerMismatch, bounded(u), clip.Quote(m.Issuer, core.MaxLogField), clip.Quote(issuer, core.MaxLogField))
		}
		if m.TokenEndpoint == "" {
			return nil, fmt.Errorf("%w: %s has no token_endpoint", ErrDiscovery, u)
		}
		if _, err := checkURL(m.TokenEndpoint, allowHTTP); err != nil {
			return nil, fmt.Errorf("%w: token_endpoint: %w", ErrDiscovery, err)
		}
		return &m, nil
	}
	return nil, fmt.Errorf("%w: authorization server metadata for %s: %w", ErrDiscovery, clip.Quote(issuer, core.MaxLogField), errors.Join(errs...))
}

// checkReach is the package's checkReach unless Config.AllowLocalDiscovery.
func (d *discoverer) checkReach(what, raw string, server *url.URL) error {
	if d.allowLocal {
		return nil
	}
	return checkReach(what, raw, server)
}
