package core

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
)

// servePost runs one allowed tools/call through g.Serve with body padded
// by pad, calling next.
func servePost(t testing.TB, g *Guard, pad string, next func(http.ResponseWriter, *http.Request)) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ls","arguments":{"p":"` + pad + `"}}}`
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+tokAlice)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	w := httptest.NewRecorder()
	g.Serve(w, r, next)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// TestServeBodyPoolKeepsUnfinishedBody: the body buffer goes back to the
// pool only when next read it to EOF. A body next left unfinished (here
// kept past the call, which Serve's contract forbids, to see what
// something next started could still read) is never handed to a later
// request: its remaining bytes stay intact while others are served.
func TestServeBodyPoolKeepsUnfinishedBody(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	for _, size := range []int{0, 40, 600, 5000} {
		pad := strings.Repeat("a", size)
		var kept io.Reader
		var head []byte
		servePost(t, g, pad, func(w http.ResponseWriter, r *http.Request) {
			head = make([]byte, 20)
			if _, err := io.ReadFull(r.Body, head); err != nil {
				t.Fatal(err)
			}
			kept = r.Body
			w.WriteHeader(http.StatusOK)
		})
		for range 50 {
			servePost(t, g, strings.Repeat("Z", size), func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusOK)
			})
		}
		rest, err := io.ReadAll(kept)
		want := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ls","arguments":{"p":"` + pad + `"}}}`
		if got := string(head) + string(rest); err != nil || got != want {
			t.Errorf("size %d: the unfinished body now reads %q (%v), want %q", size, got, err, want)
		}
	}
}

// TestServeBodyPoolReuses: with the body read to EOF the buffer is
// reused, so such a request allocates one object less than one whose
// handler leaves the body unread. Not parallel: AllocsPerRun forbids it
// (and GOGC is process-wide; a collection may empty the pool).
func TestServeBodyPoolReuses(t *testing.T) {
	g := newGuard(t)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	pad := strings.Repeat("p", 300)
	read := testing.AllocsPerRun(100, func() {
		servePost(t, g, pad, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		})
	})
	unread := testing.AllocsPerRun(100, func() {
		servePost(t, g, pad, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	})
	// Under -race a pool drops a quarter of what is put back, at random:
	// the saving is then most of one allocation, not all of it.
	saving := 1.0
	if raceEnabled {
		saving = 0.25
	}
	if read > unread-saving {
		t.Errorf("%v allocations with the body read to EOF, %v with it unread: the buffer is not reused", read, unread)
	}
}
