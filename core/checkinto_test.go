package core

import (
	"context"
	"testing"
)

// TestCheckInto: CheckInto decides as Check does and fills the caller's
// Result, whatever that Result held before (here, a tools/list request's
// filter and an initialize's binding).
func TestCheckInto(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	tests := []struct {
		name string
		body string
		tok  string
	}{
		{"tool allowed", toolCall("ls"), tokAlice},
		{"tools/list filtered", toolsList, tokAlice},
		{"initialize creates a session", initBody, tokAlice},
		{"tool denied", toolCall("rm"), tokAlice},
		{"no token", toolCall("ls"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			want, werr := g.Check(ctx, post(tt.tok, tt.body))
			var stale Result // holds a filter and a binding of other requests
			for _, body := range []string{toolsList, initBody} {
				if _, err := g.CheckInto(ctx, post(tokBob, body), &stale); err != nil {
					t.Fatalf("stale request refused: %v", err)
				}
			}
			got, gerr := g.CheckInto(ctx, post(tt.tok, tt.body), &stale)
			if errKind(gerr) != errKind(werr) || (gerr == nil) != (werr == nil) {
				t.Fatalf("CheckInto error %v, Check error %v", gerr, werr)
			}
			if werr != nil {
				if got != nil {
					t.Error("result with error")
				}
				return
			}
			if got != &stale {
				t.Fatal("the Result is not the caller's")
			}
			if got.Principal.ID() != want.Principal.ID() || got.ProtocolVersion != want.ProtocolVersion ||
				got.SessionID != want.SessionID || got.NeedsFilter() != want.NeedsFilter() ||
				got.CreatesSession() != want.CreatesSession() {
				t.Errorf("CheckInto %+v, Check %+v", got, want)
			}
			if p, ok := PrincipalFromContext(got.Context(ctx)); !ok || p != got.Principal {
				t.Errorf("context principal %v, want %v", p, got.Principal)
			}
		})
	}
	if res, err := g.CheckInto(context.Background(), post(tokAlice, toolCall("ls")), nil); err != nil || res == nil {
		t.Errorf("nil Result: %v, %v", res, err)
	}
}
