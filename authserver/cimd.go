package authserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
	"github.com/mcpauthz/mcpauthz/internal/lru"
)

// Defaults of [ClientMetadataDocuments].
const (
	// DefaultMetadataDocumentMaxBytes caps a fetched document.
	DefaultMetadataDocumentMaxBytes = 5 << 10
	// DefaultMetadataDocumentTimeout bounds one fetch (connect, TLS,
	// headers and body).
	DefaultMetadataDocumentTimeout = 5 * time.Second
	// DefaultMetadataDocumentTTL is how long a document without
	// Cache-Control max-age is cached.
	DefaultMetadataDocumentTTL = 5 * time.Minute
	// DefaultMetadataDocumentMaxTTL caps max-age.
	DefaultMetadataDocumentMaxTTL = 24 * time.Hour
	// DefaultMetadataDocumentCacheBytes bounds the document cache.
	DefaultMetadataDocumentCacheBytes = 1 << 20
	// metadataDocumentFailureTTL: a failed fetch is remembered this long,
	// so that a flood of authorization requests naming one bad URL
	// fetches it at most once per period.
	metadataDocumentFailureTTL = 30 * time.Second
	maxClientIDURL             = 512
)

// ClientMetadataDocuments turns on Client ID Metadata Documents (MCP
// 2025-11-25 authorization; draft-ietf-oauth-client-id-metadata-document):
// a client_id that is an https URL names a JSON document, fetched by this
// server, whose "client_id" equals the URL and whose "redirect_uris" are the
// client's. Such clients are public (token_endpoint_auth_method "none") and
// use the authorization code flow; the metadata advertises
// client_id_metadata_document_supported. Needs Config.Broker.
//
// The fetch is hardened against server-side request forgery: https only;
// the address is checked when the connection is made (after DNS, so a name
// that resolves to a refused address is refused, whatever it resolved to
// before), and loopback, private, link-local, CGNAT, multicast and other
// non-global addresses are refused unless listed in AllowNetworks; no proxy;
// redirects are not followed; the body is capped at MaxBytes and the whole
// fetch at Timeout.
type ClientMetadataDocuments struct {
	// AllowHosts, when set, accepts documents only from these hosts: exact
	// names or "*.example.com" for subdomains. OPTIONAL; nil means any
	// host with a public address.
	AllowHosts []string
	// AllowNetworks are address prefixes ("10.1.0.0/16", "127.0.0.1/32")
	// that documents may be fetched from although they are not public.
	// OPTIONAL.
	AllowNetworks []string
	// DevAllowInsecure also accepts http client_id URLs and loopback
	// addresses. OPTIONAL; development only, default false.
	DevAllowInsecure bool
	// RootCAs verifies the document servers' certificates. OPTIONAL; nil
	// means the system pool.
	RootCAs *x509.CertPool
	// MaxBytes caps a document. OPTIONAL; zero means
	// DefaultMetadataDocumentMaxBytes (5 KiB); at most 64 KiB.
	MaxBytes int64
	// Timeout bounds one fetch. OPTIONAL; zero means
	// DefaultMetadataDocumentTimeout (5 s); at most 30 s.
	Timeout time.Duration
	// DefaultTTL caches a document whose response has no Cache-Control
	// max-age. OPTIONAL; zero means DefaultMetadataDocumentTTL (5 min).
	// "no-store" and "no-cache" responses are never cached; max-age is
	// honoured up to MaxTTL (OPTIONAL; zero means 24 h).
	DefaultTTL time.Duration
	MaxTTL     time.Duration
	// CacheBytes bounds the document cache (least recently used documents
	// are dropped first). OPTIONAL; zero means
	// DefaultMetadataDocumentCacheBytes (1 MiB).
	CacheBytes int64
	// FetchLimit is the server-wide budget of document fetches (cache
	// misses); over it, a request naming an uncached document is refused
	// (400 page) without fetching or remembering the refusal. OPTIONAL;
	// zero means a burst of 20, then 5 per second. Kept by
	// Config.RateLimiter when set, else in memory.
	FetchLimit Limit
	// FetchLimitPerSource is the budget of document fetches per source
	// address (Config.ClientAddress), charged before FetchLimit, so that
	// one source naming uncached URLs cannot spend the server-wide budget
	// and lock out clients first seen from elsewhere. OPTIONAL; zero means
	// a burst of 10, then one a second (a fifth of the default
	// server-wide rate).
	FetchLimitPerSource Limit
	// Scopes and Resources restrict what these clients may obtain, as
	// Client.Scopes and Client.Resources do. OPTIONAL; nil means every
	// scope of every resource (the broker's access rules still decide per
	// user).
	Scopes    []string
	Resources []string
}

// cimd is the validated ClientMetadataDocuments.
type cimd struct {
	hosts      []string // exact, or ".example.com"
	dev        bool
	maxBytes   int64
	timeout    time.Duration
	defTTL     time.Duration
	maxTTL     time.Duration
	scopes     map[string]bool
	resources  map[string]bool
	allScopes  []string
	hc         *http.Client
	fetchLimit Limit
	perSource  Limit
	limiter    Limiter
	cache      *lru.Cache[string, docResult] // by URL, failures too, bounded in bytes
	inflightMu sync.Mutex
	inflight   map[string]*docFetch
}

type docFetch struct {
	done chan struct{}
	c    *client
	err  error
}

// ErrMetadataDocument is wrapped by every refusal of a client ID metadata
// document (fetch, size, time, content, policy).
var ErrMetadataDocument = errors.New("authserver: client ID metadata document refused")

func docErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMetadataDocument, fmt.Sprintf(format, a...))
}

func (s *Server) setMetadataDocuments(d *ClientMetadataDocuments, shared Limiter) error {
	if d == nil {
		return nil
	}
	if s.broker == nil {
		return cfgErr("client_metadata_documents", "needs broker (these clients use the authorization code flow)")
	}
	c := &cimd{
		dev: d.DevAllowInsecure, maxBytes: d.MaxBytes, timeout: orDefault(d.Timeout, DefaultMetadataDocumentTimeout),
		defTTL: orDefault(d.DefaultTTL, DefaultMetadataDocumentTTL), maxTTL: orDefault(d.MaxTTL, DefaultMetadataDocumentMaxTTL),
		inflight: map[string]*docFetch{},
	}
	if c.maxBytes == 0 {
		c.maxBytes = DefaultMetadataDocumentMaxBytes
	}
	cacheBytes := d.CacheBytes
	if cacheBytes == 0 {
		cacheBytes = DefaultMetadataDocumentCacheBytes
	}
	switch {
	case c.maxBytes < 0 || c.maxBytes > 64<<10:
		return cfgErr("client_metadata_documents.max_bytes", "must be between 0 and 64 KiB")
	case c.timeout < 0 || c.timeout > 30*time.Second:
		return cfgErr("client_metadata_documents.timeout", "must be between 0 and 30s")
	case c.defTTL < 0 || c.maxTTL < 0 || c.defTTL > c.maxTTL:
		return cfgErr("client_metadata_documents.default_ttl", "must be between 0 and max_ttl")
	case cacheBytes < 0:
		return cfgErr("client_metadata_documents.cache_bytes", "must not be negative")
	}
	for i, h := range d.AllowHosts {
		h = strings.ToLower(h)
		base := strings.TrimPrefix(h, "*.")
		if base == "" || strings.ContainsAny(base, "*/:@?#[] ") {
			return cfgErr(fmt.Sprintf("client_metadata_documents.allow_hosts[%d]", i), "must be a host name or *.domain")
		}
		if base != h {
			h = "." + base
		}
		c.hosts = append(c.hosts, h)
	}
	var nets []netip.Prefix
	for i, n := range d.AllowNetworks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return cfgErr(fmt.Sprintf("client_metadata_documents.allow_networks[%d]", i), "must be a CIDR prefix")
		}
		nets = append(nets, p.Masked())
	}
	if d.Scopes != nil {
		c.scopes = map[string]bool{}
		for i, sc := range d.Scopes {
			known := false
			for _, res := range s.resources {
				known = known || res.set[sc]
			}
			if !known {
				return cfgErr(fmt.Sprintf("client_metadata_documents.scopes[%d]", i), "not a scope of any resource")
			}
			c.scopes[sc] = true
		}
	}
	if d.Resources != nil {
		c.resources = map[string]bool{}
		for i, id := range d.Resources {
			if s.resources[id] == nil {
				return cfgErr(fmt.Sprintf("client_metadata_documents.resources[%d]", i), "not a configured resource")
			}
			c.resources[id] = true
		}
	}
	for id, res := range s.resources {
		if c.resources != nil && !c.resources[id] {
			continue
		}
		for _, sc := range res.scopes {
			if (c.scopes == nil || c.scopes[sc]) && !slices.Contains(c.allScopes, sc) {
				c.allScopes = append(c.allScopes, sc)
			}
		}
	}
	c.fetchLimit = d.FetchLimit
	if c.fetchLimit == (Limit{}) {
		c.fetchLimit = Limit{PerSecond: 5, Burst: 20}
	}
	if c.fetchLimit.PerSecond <= 0 || c.fetchLimit.Burst <= 0 {
		return cfgErr("client_metadata_documents.fetch_limit", "must be positive")
	}
	c.perSource = d.FetchLimitPerSource
	if c.perSource == (Limit{}) {
		c.perSource = Limit{PerSecond: 1, Burst: 10}
	}
	if c.perSource.PerSecond <= 0 || c.perSource.Burst <= 0 {
		return cfgErr("client_metadata_documents.fetch_limit_per_source", "must be positive")
	}
	c.limiter = shared
	if c.limiter == nil {
		l, err := NewMemoryLimiter(MemoryLimiterConfig{Now: s.now})
		if err != nil {
			return err
		}
		c.limiter = l
	}
	c.hc = documentClient(nets, d.DevAllowInsecure, d.RootCAs, c.timeout)
	c.cache = lru.New[string, docResult](0, cacheBytes)
	s.cimd = c
	return nil
}

// documentClient is the hardened HTTP client of document fetches: no
// proxy, no redirects, no keep-alive pool shared with anything else, and a
// dialer that refuses non-public addresses after resolution.
func documentClient(allow []netip.Prefix, dev bool, roots *x509.CertPool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !addressAllowed(ap.Addr(), allow, dev) {
			return &addressError{address: address}
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would hide the address checked at dial time
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// addressError is a connection refused by the dial-time address check.
type addressError struct{ address string }

func (e *addressError) Error() string { return "address " + e.address + " is not public" }

// nonPublic are prefixes that netip's predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 (embeds any IPv4)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds any IPv4)
	netip.MustParsePrefix("2001::/32"),       // Teredo
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (embeds any IPv4)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated, SIIT (embeds any IPv4)
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, still routed on some networks)
	netip.MustParsePrefix("100::/64"),        // discard-only
}

// addressAllowed reports whether a document may be fetched from a: a
// global unicast address outside the private and special ranges, or one
// in allow, or (dev) a loopback address.
func addressAllowed(a netip.Addr, allow []netip.Prefix, dev bool) bool {
	a = a.Unmap()
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	if dev && a.IsLoopback() {
		return true
	}
	if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// isDocumentClientID reports whether id has the shape of a client ID
// metadata document URL (scheme https, or http with dev): the full checks
// are in checkDocumentURL.
func (c *cimd) isDocumentClientID(id string) bool {
	return strings.HasPrefix(id, "https://") || c.dev && strings.HasPrefix(id, "http://")
}

// checkDocumentURL applies the draft's client identifier rules: https (http
// only in dev mode), a host, a path other than "/", no dot segments, no
// fragment, no user info, no query; and the AllowHosts policy.
func (c *cimd) checkDocumentURL(raw string) error {
	if len(raw) > maxClientIDURL {
		return docErr("client_id URL longer than %d bytes", maxClientIDURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return docErr("client_id is not a URL")
	}
	if u.Scheme != "https" && !(c.dev && u.Scheme == "http") {
		return docErr("client_id URL must use https")
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") || u.RawQuery != "" || strings.Contains(raw, "?") || u.Opaque != "" {
		return docErr("client_id URL must have a host and no user info, query or fragment")
	}
	if len(u.EscapedPath()) < 2 {
		return docErr("client_id URL must have a path without dot segments")
	}
	for _, seg := range strings.Split(u.Path, "/") { // decoded: %2e%2e is ".." too
		if seg == "." || seg == ".." {
			return docErr("client_id URL must have a path without dot segments")
		}
	}
	if len(c.hosts) > 0 {
		h := strings.ToLower(u.Hostname())
		ok := false
		for _, a := range c.hosts {
			if wild := strings.HasPrefix(a, "."); !wild && h == a || wild && strings.HasSuffix(h, a) && !strings.HasPrefix(h, ".") {
				ok = true
			}
		}
		if !ok {
			return docErr("host %s is not allowed", quoteForText(h))
		}
	}
	return nil
}

// documentClient returns the client of a document URL: from the cache, or
// fetched (one fetch per URL at a time; failures are remembered for 30 s).
// A fetch is charged to source's budget ("" when the caller has no
// request source), then to the server-wide one.
func (c *cimd) client(ctx context.Context, s *Server, id, source string) (*client, error) {
	now := s.now()
	if r, ok := c.cache.Get(id, now); ok { // only checked URLs are cached
		return r.c, r.err
	}
	if err := c.checkDocumentURL(id); err != nil {
		return nil, err
	}
	c.inflightMu.Lock()
	if f := c.inflight[id]; f != nil {
		c.inflightMu.Unlock()
		select {
		case <-f.done:
			return f.c, f.err
		case <-ctx.Done():
			return nil, docErr("fetch cancelled")
		}
	}
	if err := c.charge(ctx, source); err != nil {
		c.inflightMu.Unlock()
		return nil, err
	}
	f := &docFetch{done: make(chan struct{})}
	c.inflight[id] = f
	c.inflightMu.Unlock()

	// The fetch outlives a cancelled request (others may wait on it) but
	// never its own timeout.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	cl, ttl, err := c.fetch(fctx, s, id)
	cancel()
	if err != nil {
		s.log.WarnContext(ctx, "authserver.cimd fetch refused", "client_id", truncateForLog(id), "error", err)
		ttl = metadataDocumentFailureTTL
	}
	if ttl > 0 {
		c.cache.Put(id, docResult{cl, err}, docBytes(id, cl, err), now.Add(ttl))
	} else {
		c.cache.Delete(id)
	}
	f.c, f.err = cl, err
	close(f.done)
	c.inflightMu.Lock()
	delete(c.inflight, id)
	c.inflightMu.Unlock()
	return cl, err
}

// charge spends one fetch of source's budget, then of the server-wide
// one; it fails closed when the limiter is down.
func (c *cimd) charge(ctx context.Context, source string) error {
	if len(source) > 256 {
		source = source[:256]
	}
	for _, b := range []struct {
		key string
		l   Limit
	}{{"cimd-fetch|" + source, c.perSource}, {"cimd-fetch", c.fetchLimit}} {
		if source == "" && b.key != "cimd-fetch" {
			continue
		}
		d, err := c.limiter.Allow(ctx, b.key, b.l)
		if err != nil { // fail closed: no fetch without the budget
			return docErr("the fetch budget is unavailable; try again in a minute")
		}
		if !d.Allowed {
			return docErr("too many document fetches; try again in a minute")
		}
	}
	return nil
}

// fetch GETs and validates the document; it returns the client and how
// long it may be cached (0: not at all).
func (c *cimd) fetch(ctx context.Context, s *Server, id string) (*client, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, 0, docErr("cannot build the request")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ae *addressError
		if errors.As(err, &ae) {
			return nil, 0, docErr("%s", ae)
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, 0, docErr("fetch timed out after %s", c.timeout)
		}
		return nil, 0, docErr("fetch failed")
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, 0, docErr("redirects are not followed (status %d)", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, 0, docErr("status %d", resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, 0, docErr("Content-Type is not application/json")
	}
	if resp.ContentLength > c.maxBytes {
		return nil, 0, docErr("document larger than %d bytes", c.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, 0, docErr("fetch timed out after %s", c.timeout)
		}
		return nil, 0, docErr("cannot read the document")
	}
	if int64(len(body)) > c.maxBytes {
		return nil, 0, docErr("document larger than %d bytes", c.maxBytes)
	}
	// The deadline is authoritative: a response the transport delivered
	// (or this goroutine saw) at or after it is refused like one that
	// never came, whatever raced the timer.
	if dl, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(dl) {
		return nil, 0, docErr("fetch timed out after %s", c.timeout)
	}
	cl, err := c.parseDocument(s, id, body)
	if err != nil {
		return nil, 0, err
	}
	return cl, c.cacheTTL(resp.Header), nil
}

// cacheTTL honours Cache-Control: no-store and no-cache are not cached,
// max-age up to MaxTTL, else DefaultTTL.
func (c *cimd) cacheTTL(h http.Header) time.Duration {
	ttl := c.defTTL
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store" || d == "no-cache":
				return 0
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
				if err != nil || n < 0 {
					return 0 // unusable: do not cache
				}
				ttl = time.Duration(min(n, int64(c.maxTTL/time.Second))) * time.Second
			}
		}
	}
	return min(ttl, c.maxTTL)
}

// documentMembers are the members this server reads; a lone case variant
// of one is refused (encoding/json would bind it).
var documentMembers = []string{"client_id", "redirect_uris", "client_name", "token_endpoint_auth_method", "grant_types", "response_types", "scope", "client_secret"}

// parseDocument validates a document strictly (internal/jsonscan) and
// builds the public client it describes.
func (c *cimd) parseDocument(s *Server, id string, body []byte) (*client, error) {
	m, err := jsonscan.DecodeObject(body, jsonscan.Options{MaxDepth: 4})
	if err != nil {
		return nil, docErr("not a strict JSON object")
	}
	for k := range m {
		for _, name := range documentMembers {
			if k != name && strings.EqualFold(k, name) {
				return nil, docErr("member name in the wrong case: %s", quoteForText(k))
			}
		}
	}
	if got, _ := m["client_id"].(string); got != id {
		return nil, docErr("the document's client_id is not its URL")
	}
	if _, ok := m["client_secret"]; ok {
		return nil, docErr("a metadata document must not hold a client_secret")
	}
	req, oe := registrationFromMap(m)
	if oe != nil {
		return nil, docErr("%s", oe.desc)
	}
	if req.AuthMethod != "" && req.AuthMethod != AuthNone {
		return nil, docErr("only token_endpoint_auth_method none is supported")
	}
	for _, ru := range req.RedirectURIs {
		if err := checkRedirectURI(ru, true); err != nil {
			return nil, docErr("redirect URI %s", err)
		}
	}
	grants := req.GrantTypes
	if grants == nil {
		grants = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	for _, g := range grants {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			return nil, docErr("grant type %s is not supported", quoteForText(g))
		}
	}
	if !slices.Contains(grants, GrantAuthorizationCode) {
		return nil, docErr("grant_types must contain authorization_code")
	}
	for _, rt := range req.ResponseTypes {
		if rt != "code" {
			return nil, docErr(`response_types must be ["code"]`)
		}
	}
	scopes := c.allScopes
	if req.hasScope {
		asked, _ := parseScope(req.Scope)
		scopes = intersect(asked, toSet(c.allScopes))
	}
	return &client{
		id: id, methods: map[string]bool{AuthNone: true}, grants: toSet(grants), scopes: toSet(scopes),
		resources: c.resources, public: true, redirects: req.RedirectURIs, name: req.ClientName, origin: originDocument,
	}, nil
}

// docResult is a cached fetch: the document's client or the failure.
type docResult struct {
	c   *client
	err error
}

// docBytes is what a cached fetch of url costs the cache: its client, or
// for a failure the text of its error (the wrapping error holds it, up to
// a few hundred bytes: a document's value is cut to MaxLogField; the
// sentinel it wraps is shared).
func docBytes(url string, c *client, err error) int64 {
	size := int64(256 + len(url))
	if c != nil {
		size += clientBytes(c)
	}
	if err != nil {
		size += int64(len(err.Error()))
	}
	return size
}

// clientBytes is what a cached document client costs the cache.
func clientBytes(c *client) int64 {
	n := 512 + len(c.id) + len(c.name)
	for _, r := range c.redirects {
		n += len(r) + 16
	}
	for sc := range c.scopes {
		n += len(sc) + 48
	}
	return int64(n)
}
