package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
)

// The principal headers a Proxy with Config.ForwardPrincipal sets on every
// upstream request (docs/proxy.md). Each value is percent-encoded UTF-8
// ([EncodeValue]): every byte outside A-Z a-z 0-9 and -._~:/@!$&'()*+;= is
// written %XX, so a value never contains a comma, a space, a quote or a
// control character. List headers hold the encoded items joined by ","
// (no spaces); an empty list or an empty value is sent as no header.
// Any language decodes a value with its standard percent-decoder
// (decodeURIComponent, urllib.parse.unquote, url.PathUnescape).
const (
	// HeaderPrefix starts every header the proxy owns. Inbound headers
	// whose name starts with it (in any case, with "_" for "-") are
	// always removed.
	HeaderPrefix = "X-Mcpauthz-"
	// HeaderPrincipalID is core.Principal.ID(): "user:<iss>|<tenant>|<sub>"
	// or "client:<iss>|<client_id>", the key of session binding.
	HeaderPrincipalID = "X-Mcpauthz-Principal-Id"
	// HeaderPrincipalKind is "user" or "client".
	HeaderPrincipalKind = "X-Mcpauthz-Principal-Kind"
	// HeaderIssuer is the token's "iss".
	HeaderIssuer = "X-Mcpauthz-Issuer"
	// HeaderSubject is the mapped subject ("sub").
	HeaderSubject = "X-Mcpauthz-Subject"
	// HeaderTenant is the mapped tenant.
	HeaderTenant = "X-Mcpauthz-Tenant"
	// HeaderClientID is the OAuth client that obtained the token.
	HeaderClientID = "X-Mcpauthz-Client-Id"
	// HeaderScopes, HeaderGroups and HeaderRoles are lists.
	HeaderScopes = "X-Mcpauthz-Scopes"
	HeaderGroups = "X-Mcpauthz-Groups"
	HeaderRoles  = "X-Mcpauthz-Roles"
)

// MaxPrincipalHeaderBytes bounds the encoded principal headers of one
// request. A principal whose headers would be larger (hundreds of groups)
// is refused with 500 rather than forwarded with a truncated list.
const MaxPrincipalHeaderBytes = 8 << 10

// errPrincipalTooLarge: see MaxPrincipalHeaderBytes.
var errPrincipalTooLarge = errors.New("proxy: the principal headers exceed MaxPrincipalHeaderBytes")

// strippedAlways are the inbound headers the proxy never passes on besides
// X-Forwarded-* (httputil.ReverseProxy removes the hop-by-hop ones): those
// upstream frameworks read as the request's method (method-override
// middleware), path (IIS and Symfony X-Original-URL), host or scheme, or as
// the client's address (nginx-style X-Real-IP, CDN headers). A client
// setting them could make the upstream execute something other than what
// the Guard decided, or pose as another address. Lower case.
var strippedAlways = []string{
	"forwarded", "x-http-method-override", "x-http-method", "x-method-override",
	"x-original-url", "x-rewrite-url", "x-original-uri", "x-original-host", "x-host", "x-url-scheme", "front-end-https",
	"x-real-ip", "x-client-ip", "true-client-ip", "x-cluster-client-ip", "cf-connecting-ip", "fastly-client-ip",
	"x-original-forwarded-for", "x-proxyuser-ip",
}

// StripInbound removes from h every header the client must not be able to
// set on the upstream request: each name that starts with [HeaderPrefix]
// compared case-insensitively and with "_" read as "-" (CGI-style servers
// map both to the same variable), every other name containing "_" (net/http
// keeps Mcp_Session_Id apart from the Mcp-Session-Id the Guard checks, a
// CGI-style upstream does not), Forwarded and every X-Forwarded-* (the
// proxy sets its own For, Host and Proto afterwards), the method, path and
// client-address overrides of strippedAlways, and Authorization unless
// keepAuthorization.
func StripInbound(h http.Header, keepAuthorization bool) {
	for name := range h {
		if isOwnHeader(name) || strings.IndexByte(name, '_') >= 0 ||
			len(name) >= len("x-forwarded-") && strings.EqualFold(name[:len("x-forwarded-")], "x-forwarded-") ||
			slices.ContainsFunc(strippedAlways, func(s string) bool { return strings.EqualFold(name, s) }) {
			delete(h, name)
		}
	}
	if !keepAuthorization {
		delete(h, "Authorization")
	}
}

// isOwnHeader reports whether name is one of the proxy's headers in any
// spelling.
func isOwnHeader(name string) bool {
	if len(name) < len(HeaderPrefix) {
		return false
	}
	for i := 0; i < len(HeaderPrefix); i++ {
		c := name[i]
		if c == '_' {
			c = '-'
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		want := HeaderPrefix[i]
		if 'A' <= want && want <= 'Z' {
			want += 'a' - 'A'
		}
		if c != want {
			return false
		}
	}
	return true
}

// principalFields are the scalar headers in a fixed order.
func principalFields(p *core.Principal) [6][2]string {
	return [6][2]string{
		{HeaderPrincipalID, p.ID()},
		{HeaderPrincipalKind, string(p.Kind)},
		{HeaderIssuer, p.Issuer},
		{HeaderSubject, p.Subject},
		{HeaderTenant, p.Tenant},
		{HeaderClientID, p.ClientID},
	}
}

// SetPrincipalHeader sets the principal headers of p on h, replacing any
// present. It returns an error (and sets nothing) when they would exceed
// MaxPrincipalHeaderBytes.
func SetPrincipalHeader(h http.Header, p *core.Principal) error {
	var vals [9][2]string
	n, size := 0, 0
	for _, f := range principalFields(p) {
		if f[1] != "" {
			vals[n] = [2]string{f[0], EncodeValue(f[1])}
			size += len(f[0]) + len(vals[n][1])
			n++
		}
	}
	for _, l := range [3]struct {
		name  string
		items []string
	}{{HeaderScopes, p.Scopes}, {HeaderGroups, p.Groups}, {HeaderRoles, p.Roles}} {
		if v := EncodeList(l.items); v != "" {
			vals[n] = [2]string{l.name, v}
			size += len(l.name) + len(v)
			n++
		}
	}
	if size > MaxPrincipalHeaderBytes {
		return errPrincipalTooLarge
	}
	for _, kv := range vals[:n] {
		h[kv[0]] = []string{kv[1]}
	}
	return nil
}

// EncodeValue percent-encodes s for a principal header (see the header
// constants).
func EncodeValue(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !keep(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

// keep reports whether c is written as itself.
func keep(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/@!$&'()*+;=", c) >= 0
}

// EncodeList encodes each item and joins them with ",". Empty items are
// dropped.
func EncodeList(items []string) string {
	var b strings.Builder
	for _, it := range items {
		if it == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(EncodeValue(it))
	}
	return b.String()
}

// DecodeValue reverses [EncodeValue]. It refuses a value with a byte
// EncodeValue never writes or a malformed escape. The decoded bytes are
// returned as they are: the header carries what the token said.
func DecodeValue(v string) (string, error) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != '%' && !keep(c) {
			return "", fmt.Errorf("proxy: header value has the unencoded byte %q", c)
		}
	}
	s, err := url.PathUnescape(v)
	if err != nil {
		return "", fmt.Errorf("proxy: header value: %w", err)
	}
	return s, nil
}

// DecodeList reverses [EncodeList] ("" is the empty list).
func DecodeList(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p == "" {
			return nil, errors.New("proxy: header list has an empty item")
		}
		s, err := DecodeValue(p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// PrincipalFromHeader reads the principal headers a Proxy forwarded, for
// an upstream server written in Go (the principal's Claims and Attributes
// are not forwarded and stay nil). It fails when the principal id header is
// missing, when a header is repeated, when a value does not decode, or
// when the id does not match the other headers. The headers prove nothing
// by themselves: the upstream must be reachable only through the proxy.
func PrincipalFromHeader(h http.Header) (*core.Principal, error) {
	one := func(name string) (string, error) {
		vs := h[name]
		switch len(vs) {
		case 0:
			return "", nil
		case 1:
			return DecodeValue(vs[0])
		}
		return "", fmt.Errorf("proxy: repeated %s header", name)
	}
	list := func(name string) ([]string, error) {
		vs := h[name]
		switch len(vs) {
		case 0:
			return nil, nil
		case 1:
			return DecodeList(vs[0])
		}
		return nil, fmt.Errorf("proxy: repeated %s header", name)
	}
	p := &core.Principal{}
	var id, kind string
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{HeaderPrincipalID, &id}, {HeaderPrincipalKind, &kind}, {HeaderIssuer, &p.Issuer}, {HeaderSubject, &p.Subject},
		{HeaderTenant, &p.Tenant}, {HeaderClientID, &p.ClientID}} {
		if *f.dst, err = one(f.name); err != nil {
			return nil, err
		}
	}
	for _, l := range []struct {
		name string
		dst  *[]string
	}{{HeaderScopes, &p.Scopes}, {HeaderGroups, &p.Groups}, {HeaderRoles, &p.Roles}} {
		if *l.dst, err = list(l.name); err != nil {
			return nil, err
		}
	}
	if id == "" {
		return nil, fmt.Errorf("proxy: no %s header", HeaderPrincipalID)
	}
	p.Kind = core.PrincipalKind(kind)
	if p.Kind != core.PrincipalUser && p.Kind != core.PrincipalClient {
		return nil, fmt.Errorf("proxy: %s %q is neither user nor client", HeaderPrincipalKind, kind)
	}
	if p.ID() != id {
		return nil, fmt.Errorf("proxy: %s does not match the other principal headers", HeaderPrincipalID)
	}
	return p, nil
}

// rpcID returns the id of body when it is a single JSON-RPC message with
// one (nil otherwise: a batch, a notification, no body). The Guard has
// already inspected the body strictly, so a plain decode reads the id the
// server would.
func rpcID(body []byte) json.RawMessage {
	if len(body) == 0 {
		return nil
	}
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return m.ID
}
