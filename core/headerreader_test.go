package core

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// headerFields is an http.Header seen through Request.Fields, as an
// adapter without an http.Header hands it over.
type headerFields http.Header

func (h headerFields) Values(name string) []string { return http.Header(h).Values(name) }

// embeddedFields is a Request.Fields that embeds the HeaderFields of an
// http.Header; its Values answers only the names HeaderFields does not
// hold, so a Guard that asked it for those would see none.
type embeddedFields struct {
	HeaderFields
	h http.Header
}

func newEmbeddedFields(h http.Header) *embeddedFields {
	return &embeddedFields{h: h, HeaderFields: HeaderFields{
		Authorization: h.Values("Authorization"), ContentType: h.Values("Content-Type"),
		ContentEncoding: h.Values("Content-Encoding"), ProtocolVersion: h.Values("Mcp-Protocol-Version"),
		SessionID: h.Values("Mcp-Session-Id"), Method: h.Values("Mcp-Method"), Name: h.Values("Mcp-Name"),
		Origin: h.Values("Origin"), RequestID: h.Values("X-Request-Id"), LastEventID: h.Values("Last-Event-Id"),
	}}
}

func (f *embeddedFields) Values(name string) []string {
	switch name {
	case "Authorization", "Content-Type", "Content-Encoding", "Mcp-Protocol-Version", "Mcp-Session-Id",
		"Mcp-Method", "Mcp-Name", "Origin", "X-Request-Id", "Last-Event-Id":
		return nil
	}
	return f.h.Values(name)
}

// TestCheckHeaderReader: a request whose header comes through
// Request.Fields, by Values or through an embedded HeaderFields, is
// decided exactly as the same header in Request.Header:
// the same refusal or Result, and the same audit event (User-Agent and
// X-Request-Id included), for repeated Authorization and Content-Type
// fields, Origin lists, sessions and the nil header.
func TestCheckHeaderReader(t *testing.T) {
	t.Parallel()
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	reqs := map[string]*Request{
		"allowed":             post(tokAlice, toolCall("ls"), "User-Agent", "ua/1", "X-Request-Id", "r-1"),
		"denied":              post(tokAlice, toolCall("rm")),
		"no token":            post("", toolCall("ls")),
		"two Authorization":   post(tokAlice, toolCall("ls"), "Authorization", "Bearer "+tokBob),
		"two Content-Type":    post(tokAlice, toolCall("ls"), "Content-Type", "text/plain"),
		"form Content-Type":   post(tokAlice, "access_token=x", "Content-Type", "", "Content-Type", "application/x-www-form-urlencoded"),
		"origin allowed":      post(tokAlice, toolCall("ls"), "Origin", "https://app.example.com"),
		"origin refused":      post(tokAlice, toolCall("ls"), "Origin", "https://evil.example"),
		"two origins":         post(tokAlice, toolCall("ls"), "Origin", "https://app.example.com", "Origin", "https://app.example.com"),
		"session id":          post(tokAlice, toolCall("ls"), "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2025-03-26", "Mcp-Session-Id", "s-1"),
		"two session ids":     post(tokAlice, toolCall("ls"), "Mcp-Session-Id", "a", "Mcp-Session-Id", "b"),
		"two versions":        post(tokAlice, toolCall("ls"), "Mcp-Protocol-Version", "2025-06-18"),
		"initialize":          post(tokAlice, init, "Mcp-Protocol-Version", ""),
		"gzip body":           post(tokAlice, toolCall("ls"), "Content-Encoding", "gzip"),
		"Mcp-Method mismatch": post(tokAlice, toolCall("ls"), "Mcp-Method", "tools/list"),
		"Last-Event-Id GET":   {Method: http.MethodGet, Header: post(tokAlice, "", "Last-Event-Id", "e-1").Header},
		"nil header":          {Method: http.MethodPost},
	}
	for name, r := range reqs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			decide := func(r *Request) (*Result, []DecisionEvent, error) {
				rec := &recorder{}
				g := newGuard(t, func(c *Config) {
					c.Audit = rec
					c.AllowedOrigins = []string{"https://app.example.com"}
				})
				res, err := g.Check(context.Background(), r)
				return res, rec.events(), err
			}
			byMap := *r
			byMap.Body = append([]byte(nil), r.Body...)
			byFields := byMap
			byFields.Body = append([]byte(nil), r.Body...)
			byFields.Header, byFields.Fields = nil, headerFields(r.Header)
			if r.Header == nil {
				byFields.Fields = nil
			}
			byEmbedded := byFields
			byEmbedded.Body = append([]byte(nil), r.Body...)
			if r.Header != nil {
				byEmbedded.Fields = newEmbeddedFields(r.Header)
			}
			wantRes, wantEvs, wantErr := decide(&byMap)
			for via, r := range map[string]*Request{"Fields": &byFields, "HeaderFields": &byEmbedded} {
				gotRes, gotEvs, gotErr := decide(r)
				if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
					t.Fatalf("%s: err %v; Header: err %v", via, gotErr, wantErr)
				}
				if wantErr == nil && (gotRes.SessionID != wantRes.SessionID || gotRes.ProtocolVersion != wantRes.ProtocolVersion ||
					gotRes.NeedsFilter() != wantRes.NeedsFilter() || gotRes.CreatesSession() != wantRes.CreatesSession()) {
					t.Errorf("%s: %+v; Header: %+v", via, gotRes, wantRes)
				}
				if diff := cmp.Diff(wantEvs, gotEvs, cmpopts.IgnoreUnexported(DecisionEvent{}), cmpopts.IgnoreFields(DecisionEvent{}, "Latency")); diff != "" {
					t.Errorf("audit events (-Header +%s):\n%s", via, diff)
				}
			}
		})
	}
}

// nilEmbeddedFields embeds a nil *HeaderFields: its values are read
// through Values.
type nilEmbeddedFields struct {
	*HeaderFields
	h http.Header
}

func (f nilEmbeddedFields) Values(name string) []string { return f.h.Values(name) }

// TestCheckNilEmbeddedHeaderFields: a Request.Fields whose type embeds a
// nil *HeaderFields is read through its Values, as one embedding none;
// Check dereferenced the nil pointer (a panic on every request).
func TestCheckNilEmbeddedHeaderFields(t *testing.T) {
	t.Parallel()
	g := newGuard(t, func(*Config) {})
	for _, tc := range []struct {
		name  string
		r     *Request
		allow bool
	}{
		{"allowed", post(tokAlice, toolCall("ls")), true},
		{"denied", post(tokAlice, toolCall("rm")), false},
		{"no token", post("", toolCall("ls")), false},
	} {
		r := *tc.r
		r.Header, r.Fields = nil, nilEmbeddedFields{h: tc.r.Header}
		if _, err := g.Check(context.Background(), &r); (err == nil) != tc.allow {
			t.Errorf("%s: err %v, want allowed %v", tc.name, err, tc.allow)
		}
	}
}
