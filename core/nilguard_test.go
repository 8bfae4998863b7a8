package core

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestNilGuard: every method an adapter calls is safe on a nil *Guard and
// fails closed (500, ErrNilGuard), never panics and never allows.
func TestNilGuard(t *testing.T) {
	var g *Guard
	ctx := context.Background()
	if _, err := g.Check(ctx, &Request{Method: http.MethodPost, Path: "/"}); !errors.Is(err, ErrNilGuard) {
		t.Errorf("Check: %v", err)
	}
	var res Result
	if r, err := g.CheckInto(ctx, &Request{Method: http.MethodPost, Path: "/"}, &res); r != nil || !errors.Is(err, ErrNilGuard) {
		t.Errorf("CheckInto: %v, %v", r, err)
	}
	for _, err := range []error{nil, ErrNilGuard, &Error{Kind: KindNoToken}} {
		if resp := g.Render(err); resp.Status != http.StatusInternalServerError || len(resp.Body) == 0 {
			t.Errorf("Render(%v) = %d %s", err, resp.Status, resp.Body)
		}
	}
	called := false
	w := httptest.NewRecorder()
	g.Serve(w, httptest.NewRequest(http.MethodPost, "/", nil), func(http.ResponseWriter, *http.Request) { called = true })
	if called || w.Code != http.StatusInternalServerError {
		t.Errorf("Serve: next called %v, status %d", called, w.Code)
	}
	w = httptest.NewRecorder()
	g.MetadataHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, WellKnownPath, nil))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("MetadataHandler: %d", w.Code)
	}
	if g.ResourcePath() != "/" || g.MetadataPath() != WellKnownPath || len(g.MetadataPaths()) != 1 ||
		g.MetadataURL() != "" || g.Resource() != "" || g.MetadataJSON() != nil || g.MaxBodyBytes() != 0 {
		t.Error("accessors on a nil Guard")
	}
	if err := g.Ready(ctx); !errors.Is(err, ErrNilGuard) {
		t.Errorf("Ready: %v", err)
	}
	if err := g.EndSession(ctx, "s"); !errors.Is(err, ErrNilGuard) {
		t.Errorf("EndSession: %v", err)
	}
}
