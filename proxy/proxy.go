package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// Defaults of [Config].
const (
	// DefaultDialTimeout bounds connecting to the upstream server.
	DefaultDialTimeout = 5 * time.Second
	// DefaultResponseHeaderTimeout bounds the wait for the upstream
	// response header once the request is sent. A server answering in JSON
	// mode sends its header only with the result, so this is also the
	// longest tool call such a server can run.
	DefaultResponseHeaderTimeout = 60 * time.Second
	// DefaultStreamIdleTimeout bounds the silence on an established
	// upstream response body (an SSE stream, a slow JSON body): when no
	// byte arrives for this long the stream is closed. There is no limit on
	// a body's total duration.
	DefaultStreamIdleTimeout = 5 * time.Minute
)

// HeaderBudget is the request header bound (http.Server.MaxHeaderBytes)
// for a server in front of a Guard that accepts bearer tokens of up to
// maxTokenBytes (0: verifier.DefaultMaxTokenBytes, 8 KiB): the token plus
// OtherHeaderBytes for every other header. It is what an unauthenticated
// request can make the server read and hold (net/http reads up to 4 KiB
// more before it answers 431). "mcpauthz proxy" uses it unless
// proxy.max_header_bytes says otherwise; set your own server to it when
// you mount [Proxy] yourself.
func HeaderBudget(maxTokenBytes int) int {
	if maxTokenBytes <= 0 {
		maxTokenBytes = verifier.DefaultMaxTokenBytes
	}
	return len("Authorization: Bearer \r\n") + maxTokenBytes + OtherHeaderBytes
}

// OtherHeaderBytes is the part of [HeaderBudget] left for the headers
// other than Authorization (request line, Host, Accept, Content-Type, the
// Mcp-* headers, a traceparent, a User-Agent).
const OtherHeaderBytes = 4 << 10

// MaxUpstreamHeaderBytes bounds the response header of the upstream server
// with the default transport (net/http's own default is 10 MB); a larger
// header is answered with 502.
const MaxUpstreamHeaderBytes = 64 << 10

// Config configures a [Proxy]. Every field is OPTIONAL unless marked
// REQUIRED; the zero value selects the default named in its comment.
type Config struct {
	// Guard authorizes every request before it is forwarded. REQUIRED.
	Guard *core.Guard
	// Upstream is the URL of the protected server's MCP endpoint, such as
	// "http://127.0.0.1:3000/mcp": http or https, with a host, without
	// user info or fragment. Requests are sent to exactly this URL (with
	// ForwardQuery, the inbound query is appended). REQUIRED.
	Upstream string
	// ForwardQuery passes the query string of a request to the MCP endpoint
	// on to the upstream. Default false: a request with a query string is
	// refused with 400 and never forwarded. Streamable HTTP carries
	// everything in the body and headers, the Guard inspects neither the
	// query nor anything an upstream might read from it, so a query could
	// smuggle parameters (a tenant, a debug switch, a second method) past
	// the policy.
	ForwardQuery bool
	// Transport sends the requests upstream. Default: a transport of its
	// own (never http.DefaultTransport) that ignores HTTP_PROXY and
	// friends, with DialTimeout, ResponseHeaderTimeout, a 10 s TLS
	// handshake timeout, MaxUpstreamHeaderBytes and 64 idle connections. When set, DialTimeout
	// and ResponseHeaderTimeout are the caller's business.
	Transport http.RoundTripper
	// DialTimeout: default DefaultDialTimeout (5 s).
	DialTimeout time.Duration
	// ResponseHeaderTimeout: default DefaultResponseHeaderTimeout (60 s).
	ResponseHeaderTimeout time.Duration
	// StreamIdleTimeout: default DefaultStreamIdleTimeout (5 min).
	StreamIdleTimeout time.Duration
	// ForwardPrincipal sends the principal to the upstream server in the
	// X-Mcpauthz-* headers (see [SetPrincipalHeader]). Default false.
	// Inbound X-Mcpauthz-* headers are removed whatever this says.
	ForwardPrincipal bool
	// ForwardToken passes the client's Authorization header to the
	// upstream server. Default false: the upstream gets no credential,
	// so it cannot replay the token and does not log it. Enable it only
	// for an upstream that verifies the token again.
	ForwardToken bool
	// Logger receives upstream failures (never a token). Default: discard.
	Logger *slog.Logger
}

// Proxy is an http.Handler that serves the Guard's MCP endpoint by
// forwarding authorized requests to an upstream MCP server, and the
// Guard's RFC 9728 metadata document itself. It is safe for concurrent
// use.
//
// Routing: a request for exactly Guard.ResourcePath() (any method) goes
// through [core.Guard.Serve] and, when allowed, upstream; a request for
// one of Guard.MetadataPaths() gets the metadata; every other path is
// answered 404 without reaching the upstream.
type Proxy struct {
	g        *core.Guard
	upstream *url.URL
	rp       *httputil.ReverseProxy
	log      *slog.Logger
	idle     time.Duration
	fwdPrinc bool
	fwdToken bool
	fwdQuery bool
	metadata http.Handler
	mdPaths  []string
	pubHost  string // host of the Guard's resource URL: X-Forwarded-Host
	streams  streams
}

// New validates cfg and returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Guard == nil {
		return nil, errors.New("proxy: Config.Guard is required")
	}
	u, err := parseUpstream(cfg.Upstream)
	if err != nil {
		return nil, err
	}
	if cfg.DialTimeout < 0 || cfg.ResponseHeaderTimeout < 0 || cfg.StreamIdleTimeout < 0 {
		return nil, errors.New("proxy: timeouts must not be negative")
	}
	p := &Proxy{
		g: cfg.Guard, upstream: u, log: cfg.Logger, idle: cfg.StreamIdleTimeout,
		fwdPrinc: cfg.ForwardPrincipal, fwdToken: cfg.ForwardToken, fwdQuery: cfg.ForwardQuery,
		metadata: cfg.Guard.MetadataHandler(), mdPaths: cfg.Guard.MetadataPaths(),
	}
	if ru, err := url.Parse(cfg.Guard.Resource()); err == nil {
		p.pubHost = ru.Host
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if (p.fwdToken || p.fwdPrinc) && u.Scheme == "http" && !httpx.IsLoopbackHost(u.Hostname()) {
		p.log.Warn("proxy: the upstream is plain http on a host that is not loopback: the forwarded identity headers, and with ForwardToken the bearer token, cross the network in cleartext, and anyone on the path can read or forge them; use https, a loopback or pod-local upstream, or a network policy",
			slog.String("upstream_host", u.Host), slog.Bool("forward_token", p.fwdToken), slog.Bool("forward_principal", p.fwdPrinc))
	}
	if p.idle == 0 {
		p.idle = DefaultStreamIdleTimeout
	}
	tr := cfg.Transport
	if tr == nil {
		tr = newTransport(cfg.DialTimeout, cfg.ResponseHeaderTimeout)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      tr,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
		BufferPool:     &bufferPool{},
		ErrorLog:       log.New(io.Discard, "", 0), // failures are logged by upstreamError
	}
	return p, nil
}

// parseUpstream checks Config.Upstream.
func parseUpstream(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("proxy: Config.Upstream is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("proxy: Config.Upstream: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("proxy: Config.Upstream %q: want http(s)://host[:port]/path without user info or fragment", s)
	}
	return u, nil
}

// newTransport is the default upstream transport.
func newTransport(dial, header time.Duration) *http.Transport {
	if dial == 0 {
		dial = DefaultDialTimeout
	}
	if header == 0 {
		header = DefaultResponseHeaderTimeout
	}
	d := &net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  nil, // a sidecar talks to its upstream directly
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  header,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: MaxUpstreamHeaderBytes,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    64,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
}

// ServeHTTP routes r: the MCP endpoint through the Guard to the upstream,
// the metadata document, or 404.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == p.g.ResourcePath() && r.URL.RawPath == "":
		dropConnectionHeaders(r.Header)
		if r.URL.RawQuery != "" && !p.fwdQuery && len(r.Header["Mcp-Session-Id"]) > 0 {
			// Refused before the Guard, which would end (DELETE) or
			// refresh the session binding of a request never forwarded.
			p.refuseQuery(w, nil)
			return
		}
		p.g.Serve(w, r, p.forward)
	case slices.Contains(p.mdPaths, path) && r.URL.RawPath == "":
		p.metadata.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// dropConnectionHeaders removes the headers the Connection header names
// (RFC 9110, section 7.6.1), before the Guard sees the request: the reverse
// proxy removes them from the upstream request, so without this the Guard
// would check headers (Content-Type, Mcp-Session-Id, Mcp-Protocol-Version)
// the upstream never receives.
func dropConnectionHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = textproto.TrimString(name); name != "" && !strings.EqualFold(name, "Connection") {
				h.Del(name)
			}
		}
	}
}

// bufferPool recycles the 32 KiB copy buffers of the reverse proxy (it
// allocates one per response otherwise).
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// refuseQuery answers a request to the MCP endpoint that has a query
// string while ForwardQuery is off (400, echoing the JSON-RPC id of body).
func (p *Proxy) refuseQuery(w http.ResponseWriter, body []byte) {
	core.WriteResponse(w, p.g.Render(&core.Error{Kind: core.KindMessage, Status: http.StatusBadRequest, ID: rpcID(body),
		Description: "the MCP endpoint takes no query string (proxy forward_query)"}))
}

// reqState is what the error handler needs to know about the request.
type reqState struct {
	body      []byte      // the request body the Guard inspected (nil for none)
	principal http.Header // the principal headers to send (ForwardPrincipal)
}

type stateKey struct{}

// forward sends an allowed request upstream. r carries the principal in
// its context and the body the Guard inspected.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	st := &reqState{}
	if r.Body != nil && r.Body != http.NoBody {
		b, err := readAll(r.Body)
		if err != nil {
			core.WriteResponse(w, p.g.Render(&core.Error{Kind: core.KindInternal, Err: err}))
			return
		}
		st.body = b
	}
	// Checked after the Guard, whose refusals (a token in the query, no
	// token) keep their own answers; a request naming a session was
	// refused before it (ServeHTTP).
	if r.URL.RawQuery != "" && !p.fwdQuery {
		p.refuseQuery(w, st.body)
		return
	}
	if p.fwdPrinc {
		if pc, ok := core.PrincipalFromContext(r.Context()); ok {
			st.principal = http.Header{}
			if err := SetPrincipalHeader(st.principal, pc); err != nil {
				core.WriteResponse(w, p.g.Render(&core.Error{Kind: core.KindInternal, Err: err}))
				return
			}
		}
	}
	ctx := context.WithValue(r.Context(), stateKey{}, st)
	if r.Method == http.MethodGet {
		// A GET opens the server-to-client event stream, which lasts until
		// the client or the server ends it: shutdown ends it (CloseStreams).
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		id, ok := p.streams.add(cancel)
		if !ok {
			core.WriteResponse(w, p.g.Render(&core.Error{Kind: core.KindUnavailable, Description: "shutting down"}))
			return
		}
		defer p.streams.remove(id)
	}
	out := r.WithContext(ctx)
	if st.body != nil {
		out.Body = io.NopCloser(bytes.NewReader(st.body))
	}
	p.rp.ServeHTTP(no1xx{w}, out)
}

// no1xx drops the interim (1xx) responses the reverse proxy relays from
// the upstream (103 Early Hints and its Link headers, an unsolicited 100):
// the client gets the proxy's own answer only. 101 is refused by
// modifyResponse.
type no1xx struct{ http.ResponseWriter }

func (w no1xx) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w no1xx) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readAll reads the Guard's in-memory copy of the body in one allocation
// when its length is known.
func readAll(r io.Reader) ([]byte, error) {
	if lr, ok := r.(interface{ Len() int }); ok {
		b := make([]byte, lr.Len())
		_, err := io.ReadFull(r, b)
		return b, err
	}
	return io.ReadAll(r)
}

// rewrite builds the upstream request from the inbound one.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	out := pr.Out
	u := *p.upstream
	if q := pr.In.URL.RawQuery; q != "" && p.fwdQuery {
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
	out.URL = &u
	out.Host = "" // the upstream's own host
	out.Trailer = nil
	StripInbound(out.Header, p.fwdToken)
	// The Guard has read the whole body already (and net/http answered the
	// client's Expect itself): an upstream 100 Continue would reach the
	// client as a second one.
	out.Header.Del("Expect")
	// The filters read identity bytes only: the client's Accept-Encoding
	// is not passed on, so the default transport asks for gzip itself and
	// decodes it (modifyResponse refuses any other encoding).
	out.Header.Del("Accept-Encoding")
	pr.SetXForwarded()
	// SetXForwarded copies the client's Host header; the public host is
	// the resource's.
	if p.pubHost != "" {
		out.Header.Set("X-Forwarded-Host", p.pubHost)
	} else {
		out.Header.Del("X-Forwarded-Host")
	}
	if st, ok := pr.In.Context().Value(stateKey{}).(*reqState); ok {
		for k, v := range st.principal {
			out.Header[k] = v
		}
	}
}

// errUpgrade refuses a protocol switch: the bytes after it would bypass
// the Guard.
var errUpgrade = errors.New("proxy: the upstream server switched protocols")

// errEncoded refuses a response body in a content coding: the list filters
// read identity bytes only, so an encoded list would pass unfiltered.
var errEncoded = errors.New("proxy: the upstream server sent an encoded body (Content-Encoding) that was not asked for")

// errAmbiguousType refuses a response with several Content-Type headers:
// the filter reads the first, a client may read another.
var errAmbiguousType = errors.New("proxy: the upstream server sent several Content-Type headers")

// errUpstreamUnauthorized: the upstream refused a request the Guard had
// authorized. Passing its 401 on would send a client whose token is valid
// into re-authentication, possibly at an authorization server the upstream
// names.
var errUpstreamUnauthorized = errors.New("proxy: the upstream server answered 401 to an authorized request (does it need forward_token?)")

// errRedirect refuses an upstream redirect: passing it on would send the
// client, with its bearer token, to a URL the upstream chose, and show it
// the upstream's internal address.
var errRedirect = errors.New("proxy: the upstream server answered with a redirect")

// modifyResponse applies the idle bound to the upstream body, refuses a
// protocol switch, a redirect (3xx but 304), a 401, a content coding and
// several Content-Types, and drops the upstream's WWW-Authenticate,
// Location, Content-Location, Refresh and trailers. A 404 to a request naming a session means the upstream
// server has ended it: the Guard forgets the binding.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return errUpgrade
	}
	// The Guard owns the authentication challenge, and the client's only
	// URL is the resource: no header from the upstream names another one.
	resp.Header.Del("WWW-Authenticate")
	loc := resp.Header.Get("Location")
	resp.Header.Del("Location")
	resp.Header.Del("Content-Location")
	resp.Header.Del("Refresh")
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
		if u, err := url.Parse(loc); err == nil {
			loc = u.Redacted()
		}
		return fmt.Errorf("%w: %d to %.256q", errRedirect, resp.StatusCode, loc)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errUpstreamUnauthorized
	}
	if len(resp.Header.Values("Content-Type")) > 1 {
		return errAmbiguousType
	}
	for _, ce := range resp.Header.Values("Content-Encoding") {
		if !strings.EqualFold(strings.TrimSpace(ce), "identity") {
			return errEncoded
		}
	}
	if resp.StatusCode == http.StatusNotFound && resp.Request != nil {
		if sid := resp.Request.Header.Get("Mcp-Session-Id"); sid != "" {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(resp.Request.Context()), 5*time.Second)
			if err := p.g.EndSession(ctx, sid); err != nil {
				p.log.LogAttrs(ctx, slog.LevelWarn, "mcpauthz proxy: could not drop the binding of a session the upstream ended", slog.Any("cause", err))
			}
			cancel()
		}
	}
	resp.Trailer = nil // not announced to the client
	resp.Body = dropTrailers{newIdleBody(resp.Body, p.idle), resp}
	return nil
}

// dropTrailers keeps the upstream's response trailers from the client:
// the transport fills resp.Trailer when the body ends, and the reverse
// proxy copies whatever is there after the body, where no filter and no
// header rule of the proxy applies.
type dropTrailers struct {
	io.ReadCloser
	resp *http.Response
}

func (d dropTrailers) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err != nil {
		d.resp.Trailer = nil
	}
	return n, err
}

// upstreamError answers a request the upstream did not answer: 504 for a
// timeout, 502 otherwise, with a JSON-RPC error echoing the request's id.
// Nothing from the upstream reaches the client.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	kind, level := core.KindBadGateway, slog.LevelWarn
	if isTimeout(err) {
		kind = core.KindGatewayTimeout
	} else if ctx.Err() != nil {
		level = slog.LevelDebug // the client went away, or shutdown ended a stream
	}
	var body []byte
	if st, ok := ctx.Value(stateKey{}).(*reqState); ok {
		body = st.body
	}
	p.log.LogAttrs(ctx, level, "mcpauthz proxy: upstream failed", slog.String("kind", string(kind)),
		slog.String("upstream", p.upstream.Redacted()), slog.Any("cause", err))
	core.WriteResponse(w, p.g.Render(&core.Error{Kind: kind, ID: rpcID(body), Err: err}))
}

// isTimeout reports a dial, response-header or deadline timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// CloseStreams ends every open GET event stream and makes new ones fail
// with 503: call it when shutdown begins (before http.Server.Shutdown,
// which would otherwise wait for streams that never end on their own).
// Requests with a response in progress are not affected.
func (p *Proxy) CloseStreams() { p.streams.closeAll() }

// Ready reports whether the proxy can serve: the Guard is ready
// ([core.Guard.Ready]) and a TCP connection to the upstream opens within
// ctx's deadline (at most DefaultDialTimeout). Mount it with
// core.ReadyHandler.
func (p *Proxy) Ready(ctx context.Context) error {
	gerr := p.g.Ready(ctx)
	ctx, cancel := context.WithTimeout(ctx, DefaultDialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", upstreamAddr(p.upstream))
	if err != nil {
		err = fmt.Errorf("%w: upstream: %s: %w", core.ErrNotReady, p.upstream.Redacted(), err)
	} else {
		_ = c.Close()
	}
	return errors.Join(gerr, err)
}

// upstreamAddr is host:port of u, with the scheme's default port.
func upstreamAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}
