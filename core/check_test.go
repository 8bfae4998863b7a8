package core

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// recorder is an AuditSink that keeps events.
type recorder struct {
	mu  sync.Mutex
	evs []DecisionEvent
}

func (r *recorder) Record(_ context.Context, ev DecisionEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
}

func (r *recorder) events() []DecisionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]DecisionEvent(nil), r.evs...)
}

func TestCheckDecisions(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	call := func(method, params string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":` + params + `}`
	}
	tests := []struct {
		name     string
		req      *Request
		wantKind ErrorKind // "" = allowed
		wantList bool
	}{
		{"tool allowed", post(tokAlice, toolCall("ls")), "", false},
		{"tool denied", post(tokAlice, toolCall("rm")), KindForbidden, false},
		{"tool needs scope", post(tokAlice, toolCall("deploy")), KindInsufficientScope, false},
		{"unknown tool denied", post(tokAlice, toolCall("other")), KindForbidden, false},
		{"prompt allowed", post(tokAlice, call("prompts/get", `{"name":"greet"}`)), "", false},
		{"prompt denied", post(tokAlice, call("prompts/get", `{"name":"secret"}`)), KindForbidden, false},
		{"resource allowed", post(tokAlice, call("resources/read", `{"uri":"file:///public/a"}`)), "", false},
		{"resource denied", post(tokAlice, call("resources/read", `{"uri":"file:///etc/passwd"}`)), KindForbidden, false},
		{"escaped name still decided on the decoded value", post(tokAlice, toolCall(`r\u006d`)), KindForbidden, false},
		{"initialize", post(tokAlice, call("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}`)), "", false},
		{"tools/list filtered", post(tokAlice, toolsList), "", true},
		{"notification", post(tokAlice, `{"jsonrpc":"2.0","method":"notifications/initialized"}`), "", false},
		{"legacy GET", &Request{Method: "GET", Header: post(tokAlice, "").Header}, "", false},
		{"batch all allowed", post(tokAlice, "["+toolCall("ls")+","+toolCall("echo")+"]", "Mcp-Protocol-Version", ""), "", false},
		{"batch one denied", post(tokAlice, "["+toolCall("ls")+","+toolCall("rm")+"]", "Mcp-Protocol-Version", ""), KindForbidden, false},
		{"batch scope denied", post(tokAlice, "["+toolCall("ls")+","+toolCall("deploy")+"]", "Mcp-Protocol-Version", ""), KindInsufficientScope, false},
		{"batch with list refused", post(tokAlice, "["+toolsList+"]", "Mcp-Protocol-Version", ""), KindMessage, false},
		{"batch on 2025-11-25 refused", post(tokAlice, "["+toolCall("ls")+"]"), KindMessage, false},
		{"no token", post("", toolCall("ls")), KindNoToken, false},
		{"nil claims", post("nilclaims.x", toolCall("ls")), KindInvalidToken, false},
		{"nil header", &Request{Method: "POST"}, KindNoToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := g.Check(context.Background(), tt.req)
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.Principal == nil || res.Principal.Subject != "alice" {
					t.Fatalf("principal = %+v", res.Principal)
				}
				if res.NeedsFilter() != tt.wantList {
					t.Errorf("NeedsFilter = %v", res.NeedsFilter())
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != tt.wantKind {
				t.Fatalf("err = %v, want kind %s", err, tt.wantKind)
			}
			if res != nil {
				t.Error("result with error")
			}
		})
	}
}

func TestCheckScopeStepUp(t *testing.T) {
	t.Parallel()
	g := newGuard(t, func(c *Config) {
		c.Verifier = verifierFunc(func(context.Context, string) (*Claims, error) {
			return &Claims{Issuer: "https://idp.example", Subject: "alice", Scopes: []string{"mcp:tools", "mcp:deploy"}}, nil
		})
	})
	if _, err := g.Check(context.Background(), post("any", toolCall("deploy"))); err != nil {
		t.Fatalf("with the scope: %v", err)
	}
	_, err := newGuard(t).Check(context.Background(), post(tokAlice, toolCall("deploy")))
	var e *Error
	if !errors.As(err, &e) || strings.Join(e.Scopes, " ") != "mcp:tools mcp:deploy" || string(e.ID) != "7" {
		t.Fatalf("err = %#v", err)
	}
}

type verifierFunc func(context.Context, string) (*Claims, error)

func (f verifierFunc) Verify(ctx context.Context, tok string) (*Claims, error) { return f(ctx, tok) }

func TestCheckAuthenticateOnly(t *testing.T) {
	t.Parallel()
	g := newGuard(t, func(c *Config) { c.Authorizer, c.AuthenticateOnly = nil, true })
	res, err := g.Check(context.Background(), post(tokAlice, toolCall("rm")))
	if err != nil || res.NeedsFilter() {
		t.Fatalf("authenticate-only: %v", err)
	}
	res, err = g.Check(context.Background(), post(tokAlice, toolsList))
	if err != nil || res.NeedsFilter() {
		t.Fatalf("authenticate-only list: %v %v", err, res.NeedsFilter())
	}
	if _, err := g.Check(context.Background(), post(tokAlice, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","NAME":"b"}}`)); err == nil {
		t.Fatal("authenticate-only skipped inspection")
	}
}

func TestCheckMapperErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mapper ClaimMapper
		kind   ErrorKind
	}{
		{ClaimMapperFunc(func(context.Context, *Claims) (*Principal, error) { return nil, ErrMapping }), KindInvalidToken},
		{ClaimMapperFunc(func(context.Context, *Claims) (*Principal, error) { return nil, ErrUnavailable }), KindUnavailable},
		{ClaimMapperFunc(func(context.Context, *Claims) (*Principal, error) { return nil, nil }), KindInvalidToken},
	}
	for _, tt := range tests {
		g := newGuard(t, func(c *Config) { c.Mapper = tt.mapper })
		_, err := g.Check(context.Background(), post(tokAlice, toolCall("ls")))
		var e *Error
		if !errors.As(err, &e) || e.Kind != tt.kind {
			t.Errorf("err = %v, want %s", err, tt.kind)
		}
	}
}

func TestCheckOrigin(t *testing.T) {
	t.Parallel()
	g := newGuard(t, func(c *Config) { c.AllowedOrigins = []string{"https://App.example.com"} })
	for _, tt := range []struct {
		origins []string
		ok      bool
	}{
		{nil, true},
		{[]string{"https://app.example.com"}, true},
		{[]string{"https://APP.example.com/"}, true},
		{[]string{"https://evil.example"}, false},
		{[]string{"null"}, false},
		{[]string{"https://app.example.com", "https://app.example.com"}, false},
	} {
		r := post(tokAlice, toolCall("ls"))
		for _, o := range tt.origins {
			r.Header.Add("Origin", o)
		}
		_, err := g.Check(context.Background(), r)
		if (err == nil) != tt.ok {
			t.Errorf("Origin %q: err = %v", tt.origins, err)
		}
	}
}

func TestAuditEvents(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	g := newGuard(t, func(c *Config) { c.Audit = rec })
	reqs := []*Request{
		post(tokAlice, toolCall("ls"), "X-Request-Id", "req-1"),
		post(tokAlice, toolCall("deploy")),
		post("", toolCall("ls")),
		post(tokAlice, toolCall("boom")),
		post("expired."+secretTail, toolCall("ls"), "X-Request-Id", "bad\nid"),
	}
	for _, r := range reqs {
		_, _ = g.Check(context.Background(), r)
	}
	evs := rec.events()
	if len(evs) != len(reqs) {
		t.Fatalf("%d events for %d requests", len(evs), len(reqs))
	}
	want := []struct {
		decision, target, sub string
		status                int
	}{
		{DecisionAllow, "tool:ls", "alice", 200},
		{DecisionDeny, "tool:deploy", "alice", 403},
		{DecisionDeny, "", "", 401},
		{DecisionError, "tool:boom", "alice", 503},
		{DecisionDeny, "", "", 401},
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Decision != w.decision || ev.Target != w.target || ev.Subject != w.sub || ev.Status != w.status {
			t.Errorf("event %d = %+v, want %+v", i, ev, w)
		}
		if !ev.Time.Equal(testNow) {
			t.Errorf("event %d time %v", i, ev.Time)
		}
		if strings.Contains(ev.Reason, secretTail) {
			t.Errorf("event %d leaks the token: %q", i, ev.Reason)
		}
	}
	if evs[0].RequestID != "req-1" || evs[0].Method != "tools/call" || evs[0].Issuer != "https://idp.example" || evs[0].SubjectKind != PrincipalUser || evs[0].Rule != "p, *, tool:ls" {
		t.Errorf("event 0 = %+v", evs[0])
	}
	if evs[0].PolicyVersion != 7 || evs[0].PolicyDigest != "d1g357" {
		t.Errorf("event 0 does not name the deciding policy: %+v", evs[0])
	}
	if strings.Join(evs[1].RequiredScopes, " ") != "mcp:tools mcp:deploy" || evs[1].Rule != "scope:deploy" {
		t.Errorf("event 1 = %+v", evs[1])
	}
	if evs[4].RequestID != "" {
		t.Errorf("invalid request id kept: %q", evs[4].RequestID)
	}
}

// TestNoTokenInLogsOrResponses is H05: with debug logging and the slog
// audit sink on, no token bytes appear in logs, bodies or headers — not even
// when the verifier's own error text contains the token.
func TestNoTokenInLogsOrResponses(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	l := slog.New(slog.NewJSONHandler(syncWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g := newGuard(t, func(c *Config) { c.Logger = l; c.Audit = SlogAudit(l) })
	tokens := []string{"expired." + secretTail, "badsig." + secretTail, "down." + secretTail, secretTail}
	var out bytes.Buffer
	for _, tok := range tokens {
		for _, r := range []*Request{
			post(tok, toolCall("ls")),
			post(tok, toolCall("ls"), "Authorization", "Bearer "+tok),
			{Method: "POST", RawQuery: "access_token=" + tok, Header: post("", "").Header},
			post("", toolCall("ls"), "Authorization", "Bearer "+tok+" extra"),
		} {
			_, err := g.Check(context.Background(), r)
			out.Write(dumpResponse(g.Render(err)))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if logs.Len() == 0 {
		t.Fatal("nothing logged")
	}
	for name, b := range map[string][]byte{"logs": logs.Bytes(), "responses": out.Bytes()} {
		if bytes.Contains(b, []byte(secretTail)) {
			t.Errorf("%s contain token bytes", name)
		}
	}
}

type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestDefaultMapper(t *testing.T) {
	t.Parallel()
	m := DefaultMapper()
	tests := []struct {
		c    *Claims
		kind PrincipalKind
		err  bool
	}{
		{&Claims{Issuer: "i", Subject: "alice", ClientID: "app"}, PrincipalUser, false},
		{&Claims{Issuer: "i", Subject: "svc", ClientID: "svc"}, PrincipalClient, false},
		{&Claims{Issuer: "i", ClientID: "svc"}, PrincipalClient, false},
		{&Claims{Issuer: "i"}, "", true},
		{&Claims{Subject: "alice"}, "", true},
		{nil, "", true},
	}
	for i, tt := range tests {
		p, err := m.MapClaims(context.Background(), tt.c)
		if (err != nil) != tt.err || (err == nil && p.Kind != tt.kind) {
			t.Errorf("%d: %+v %v", i, p, err)
		}
		if err != nil && !errors.Is(err, ErrMapping) {
			t.Errorf("%d: error does not wrap ErrMapping: %v", i, err)
		}
	}
	p, _ := m.MapClaims(context.Background(), &Claims{Issuer: "i", Subject: "a", Scopes: []string{"s"},
		Raw: rawOf(map[string]any{"groups": []any{"g1", 2, "g2"}, "roles": "admin", "tid": "t1"})})
	if strings.Join(p.Groups, ",") != "g1,g2" || strings.Join(p.Roles, ",") != "admin" || p.Tenant != "t1" || !p.HasScope("s") {
		t.Errorf("principal = %+v", p)
	}
}
