package core

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// trickle yields its bytes a few at a time, as a slow client sends them.
type trickle struct {
	s string
	n int
}

func (t *trickle) Read(p []byte) (int, error) {
	if t.s == "" {
		return 0, io.EOF
	}
	k := min(len(p), t.n, len(t.s))
	copy(p, t.s[:k])
	t.s = t.s[k:]
	return k, nil
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	const limit = 8
	tests := []struct {
		name     string
		body     func() io.Reader
		want     string
		tooLarge bool
		err      bool
	}{
		{"empty", func() io.Reader { return strings.NewReader("") }, "", false, false},
		{"within", func() io.Reader { return strings.NewReader("abc") }, "abc", false, false},
		{"exactly the limit", func() io.Reader { return strings.NewReader("12345678") }, "12345678", false, false},
		{"one past the limit", func() io.Reader { return strings.NewReader("123456789") }, "", true, false},
		{"trickled within", func() io.Reader { return &trickle{"1234567", 2} }, "1234567", false, false},
		{"trickled too large", func() io.Reader { return &trickle{strings.Repeat("x", 100), 3} }, "", true, false},
		{"read error", func() io.Reader { return iotest.ErrReader(errors.New("reset")) }, "", false, true},
		{"error after data", func() io.Reader {
			return io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(errors.New("reset")))
		}, "", false, true},
	}
	for _, tt := range tests {
		for _, small := range []int{0, 4} {
			got, err := ReadBody(tt.body(), limit, make([]byte, 0, small))
			if string(got) != tt.want || errors.Is(err, ErrBodyTooLarge) != tt.tooLarge || (err != nil && !tt.tooLarge) != tt.err {
				t.Errorf("%s (buffer %d): ReadBody = %q, %v", tt.name, small, got, err)
			}
		}
	}
}

// TestReadBodyGrowsAsBytesArrive: the buffer never runs ahead of the bytes
// received by more than its doubling, whatever the limit.
func TestReadBodyGrowsAsBytesArrive(t *testing.T) {
	t.Parallel()
	got, err := ReadBody(&trickle{strings.Repeat("x", 3000), 100}, 1<<30, nil)
	if err != nil || len(got) != 3000 || cap(got) > 2*4096 {
		t.Fatalf("len %d cap %d err %v", len(got), cap(got), err)
	}
}

// unreadable fails the test when the Guard reads the body.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("body read before the token was verified")
	return 0, io.EOF
}

// TestServeAuthenticatesBeforeBody: a request without a valid token is
// refused without a single read of its body, whatever Content-Length it
// declares; an authenticated one gets its body restored.
func TestServeAuthenticatesBeforeBody(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	next := func(http.ResponseWriter, *http.Request) { t.Error("next called") }
	for _, tok := range []string{"", "badsig.x", "expired.x"} {
		r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		r.Body, r.ContentLength = io.NopCloser(unreadable{t}), 1<<30
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		g.Serve(w, r, next)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("token %q: status %d", tok, w.Code)
		}
	}
	body := toolCall("ls")
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+tokAlice)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	g.Serve(w, r, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p, ok := PrincipalFromContext(r.Context())
		ti := auth.TokenInfoFromContext(r.Context())
		if string(b) != body || r.ContentLength != int64(len(body)) || !ok || ti == nil || ti.UserID != p.ID() {
			t.Errorf("next saw body %q (len %d), principal %v, TokenInfo %+v", b, r.ContentLength, ok, ti)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	if w.Code != http.StatusNoContent {
		t.Errorf("allowed: status %d", w.Code)
	}
}

// TestServeFormToken: a token in a form body is refused once the body is
// read (after authentication), and the handler is not called.
func TestServeFormToken(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader("access_token=abc"))
	r.Header.Set("Authorization", "Bearer "+tokAlice)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	g.Serve(w, r, func(http.ResponseWriter, *http.Request) { t.Error("next called") })
	if w.Code != http.StatusBadRequest {
		t.Errorf("status %d", w.Code)
	}
}

// TestWriteResponseReplaces: every header Render sets replaces an earlier
// value of that header; multi-valued headers keep all values.
func TestWriteResponseReplaces(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Other", "kept")
	WriteResponse(w, &Response{Status: 401, Header: http.Header{
		"Www-Authenticate": {`Bearer resource_metadata="a"`, `DPoP algs="ES256"`},
		"Content-Type":     {"application/json"},
	}, Body: []byte(`{}`)})
	if got := w.Header().Values("WWW-Authenticate"); len(got) != 2 {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	if got := w.Header().Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if w.Header().Get("X-Other") != "kept" || w.Code != 401 || w.Body.String() != "{}" {
		t.Errorf("code %d body %q", w.Code, w.Body)
	}
}

// TestServeBodySizes: whatever Content-Length a request declares (exact,
// smaller or larger than what is sent, unknown) and whatever its size
// around the first buffer's, next reads exactly the bytes sent, through
// Read and through io.Copy (WriteTo), and sees their length.
func TestServeBodySizes(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	for _, size := range []int{80, firstBodyBuf - 2, firstBodyBuf - 1, firstBodyBuf, firstBodyBuf + 1, 3 * firstBodyBuf} {
		pad := strings.Repeat("x", max(size-len(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ls","arguments":{"p":""}}}`), 0))
		body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ls","arguments":{"p":"` + pad + `"}}}`
		for _, declared := range []int64{int64(len(body)), int64(len(body)) - 10, int64(len(body)) + 10, -1} {
			for _, copyBody := range []bool{false, true} {
				r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
				r.ContentLength = declared
				r.Header.Set("Authorization", "Bearer "+tokAlice)
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				called := false
				g.Serve(w, r, func(w http.ResponseWriter, r *http.Request) {
					called = true
					var b []byte
					if copyBody {
						var buf bytes.Buffer
						_, _ = io.Copy(&buf, r.Body)
						b = buf.Bytes()
					} else {
						b, _ = io.ReadAll(r.Body)
					}
					if string(b) != body || r.ContentLength != int64(len(body)) {
						t.Errorf("size %d, declared %d, copy %v: next read %d bytes, ContentLength %d",
							len(body), declared, copyBody, len(b), r.ContentLength)
					}
					if n, err := r.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
						t.Errorf("read after the end: %d, %v", n, err)
					}
				})
				if !called {
					t.Errorf("size %d, declared %d: status %d, next not called", len(body), declared, w.Code)
				}
			}
		}
	}
}

// TestRestoredBodyShortWrite: WriteTo keeps what a failing writer did not
// take, for a later Read.
func TestRestoredBodyShortWrite(t *testing.T) {
	t.Parallel()
	rb := &restoredBody{b: []byte("abcdef")}
	n, err := rb.WriteTo(shortWriter{2})
	if n != 2 || err != io.ErrShortWrite {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
	if rest, _ := io.ReadAll(rb); string(rest) != "cdef" {
		t.Fatalf("rest %q", rest)
	}
}

type shortWriter struct{ n int }

func (w shortWriter) Write(p []byte) (int, error) { return min(w.n, len(p)), nil }
