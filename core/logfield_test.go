package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		max  int
		want string // "" = check the generic properties only
	}{
		{"short", "tools/call", 256, "tools/call"},
		{"exact", strings.Repeat("a", 64), 64, strings.Repeat("a", 64)},
		{"long", strings.Repeat("a", 100), 64, strings.Repeat("a", 23) + truncatedMarker + "77 bytes]"},
		{"multibyte cut", strings.Repeat("é", 200), 64, ""},
		{"huge", strings.Repeat("x", 1<<20), MaxLogField, ""},
		{"tiny max", strings.Repeat("x", 100), 3, truncatedMarker + "100 bytes]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TruncateField(tc.in, tc.max)
			if tc.want != "" && got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if len(tc.in) > tc.max {
				if !strings.Contains(got, truncatedMarker) || !strings.HasSuffix(got, " bytes]") {
					t.Fatalf("no marker: %q", got)
				}
				if tc.max >= 64 && len(got) > tc.max {
					t.Fatalf("len %d > max %d", len(got), tc.max)
				}
			}
			if utf8.ValidString(tc.in) && !utf8.ValidString(got) {
				t.Fatalf("cut inside a rune: %q", got)
			}
		})
	}
}

type digestPolicy struct{ policy }

func (digestPolicy) PolicyDigest() string { return "sha256:abc" }

// refusingVerifier refuses every token the way core/verifier does for a
// wrong audience: with a TokenRefusalError naming iss and aud.
type refusingVerifier struct{ iss string }

func (v refusingVerifier) Verify(context.Context, string) (*Claims, error) {
	return nil, &TokenRefusalError{Issuer: v.iss, Audience: []string{"https://other.example/mcp"}, Err: fmt.Errorf("verifier: %w", ErrAudience)}
}

func auditLog(t *testing.T, mods ...func(*Config)) (*Guard, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g := newGuard(t, append([]func(*Config){func(c *Config) { c.Audit, c.Logger = SlogAudit(l), l }}, mods...)...)
	return g, &buf
}

func decodeRecords(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		m := map[string]any{}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("bad record %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestAuditRecordFields(t *testing.T) {
	t.Parallel()
	g, buf := auditLog(t, func(c *Config) { c.Authorizer = digestPolicy{} })
	r := post(tokAlice, toolCall("ls"), "User-Agent", "claude-code/1.0")
	r.RemoteAddr = "192.0.2.7:41234"
	if _, err := g.Check(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	recs := decodeRecords(t, buf.Bytes())
	ev := recs[len(recs)-1]
	want := map[string]any{"msg": "mcpauthz decision", "decision": "allow", "remote_addr": "192.0.2.7:41234",
		"user_agent": "claude-code/1.0", "path": "/mcp", "policy_digest": "d1g357", "target": "tool:ls"}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
	// Refused before any decision: the Authorizer's live digest.
	if _, err := g.Check(context.Background(), post("", toolCall("ls"))); err == nil {
		t.Fatal("allowed without a token")
	}
	recs = decodeRecords(t, buf.Bytes())
	if d := recs[len(recs)-1]["policy_digest"]; d != "sha256:abc" {
		t.Errorf("refused request: policy_digest = %v, want sha256:abc", d)
	}
	if _, ok := ev["latency_ms"].(float64); !ok {
		t.Errorf("latency_ms missing or not a number: %v", ev["latency_ms"])
	}
	if _, ok := ev["latency"]; ok {
		t.Errorf("unit-less latency still logged")
	}
}

func TestAuditRefusedTokenNamesIssuerAndAudience(t *testing.T) {
	t.Parallel()
	g, buf := auditLog(t, func(c *Config) { c.Verifier = refusingVerifier{iss: "https://evil.example"} })
	const tok = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZSJ9.c2lnbmF0dXJlLWJ5dGVz"
	_, err := g.Check(context.Background(), post(tok, toolCall("ls")))
	if !errors.Is(err, ErrAudience) {
		t.Fatalf("err = %v", err)
	}
	if bytes.Contains(buf.Bytes(), []byte(tok)) || bytes.Contains(buf.Bytes(), []byte("c2lnbmF0dXJlLWJ5dGVz")) {
		t.Fatalf("token logged: %s", buf.Bytes())
	}
	recs := decodeRecords(t, buf.Bytes())
	ev := recs[len(recs)-1]
	if ev["token_iss"] != "https://evil.example" || fmt.Sprint(ev["token_aud"]) != "[https://other.example/mcp]" || ev["decision"] != "deny" {
		t.Fatalf("record = %v", ev)
	}
}

// Whatever a caller sends, one request adds a bounded number of bytes to
// the log: audit record plus the Debug record of the refusal cause.
func TestLogBytesPerRequestBounded(t *testing.T) {
	t.Parallel()
	const limit = 6 << 10
	huge := strings.Repeat("A", 900<<10)
	for _, tc := range []struct {
		name string
		req  func() *Request
	}{
		{"denied huge tool name", func() *Request { return post(tokAlice, toolCall("rm"+huge)) }},
		{"scope denial huge name", func() *Request { return post(tokBob, toolCall("deploy")) }},
		{"huge headers and path", func() *Request {
			r := post(tokAlice, toolCall("rm"), "User-Agent", huge, "X-Request-Id", huge)
			r.Path, r.RemoteAddr = "/mcp/"+huge, huge
			return r
		}},
		{"huge method", func() *Request {
			return post(tokAlice, `{"jsonrpc":"2.0","id":1,"method":"`+huge+`","params":{}}`)
		}},
		{"huge refused issuer", func() *Request { return post("x."+huge, toolCall("ls")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, buf := auditLog(t, func(c *Config) {
				c.Verifier = hugeVerifier{fakeVerifier{}, huge}
				c.MaxBodyBytes = 2 << 20
			})
			_, err := g.Check(context.Background(), tc.req())
			if err == nil {
				t.Fatal("allowed")
			}
			if n := buf.Len(); n > limit {
				t.Fatalf("one request logged %d bytes (> %d)", n, limit)
			}
			if len(decodeRecords(t, buf.Bytes())) == 0 {
				t.Fatal("nothing logged")
			}
		})
	}
}

// hugeVerifier refuses "x." tokens naming a huge issuer and audience list.
type hugeVerifier struct {
	fakeVerifier
	huge string
}

func (v hugeVerifier) Verify(ctx context.Context, tok string) (*Claims, error) {
	if strings.HasPrefix(tok, "x.") {
		aud := make([]string, 1000)
		for i := range aud {
			aud[i] = v.huge[:1000]
		}
		return nil, &TokenRefusalError{Issuer: v.huge, Audience: aud, Err: fmt.Errorf("verifier: %w: untrusted issuer %s", ErrIssuer, v.huge)}
	}
	return v.fakeVerifier.Verify(ctx, tok)
}

// TestAuditPrincipalFieldsBounded: a custom mapper that fills the principal
// (issuer, subject, client id, kind) with huge values still produces
// bounded audit fields.
func TestAuditPrincipalFieldsBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("P", 300<<10)
	g, buf := auditLog(t, func(c *Config) {
		c.Mapper = ClaimMapperFunc(func(context.Context, *Claims) (*Principal, error) {
			return &Principal{Issuer: huge, Subject: huge, ClientID: huge, Kind: PrincipalKind(huge)}, nil
		})
	})
	_, _ = g.Check(context.Background(), post(tokAlice, toolCall("rm")))
	recs := decodeRecords(t, buf.Bytes())
	if len(recs) == 0 {
		t.Fatal("nothing logged")
	}
	for _, rec := range recs {
		for _, k := range []string{"iss", "sub", "client_id", "kind"} {
			if v, _ := rec[k].(string); len(v) > MaxLogField {
				t.Errorf("%s: %d bytes (> %d)", k, len(v), MaxLogField)
			}
		}
	}
	if n := buf.Len(); n > 6<<10 {
		t.Fatalf("one request logged %d bytes", n)
	}
}
