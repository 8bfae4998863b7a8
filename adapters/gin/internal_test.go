package ginmcp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestWriteKeepsEveryValue: write copies each value of a multi-valued
// header and replaces values set earlier for the same header.
func TestWriteKeepsEveryValue(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Writer.Header().Set("Content-Type", "text/plain")
	c.Writer.Header().Set("X-Other", "kept")
	write(c, &core.Response{Status: 401, Header: http.Header{
		"Www-Authenticate": {`Bearer resource_metadata="a"`, `DPoP algs="ES256"`},
		"Content-Type":     {"application/json"},
	}, Body: []byte(`{}`)})
	if got := w.Header().Values("WWW-Authenticate"); len(got) != 2 {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	if got := w.Header().Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if w.Header().Get("X-Other") != "kept" || w.Code != 401 || w.Body.String() != "{}" || !c.IsAborted() {
		t.Errorf("code %d body %q aborted %v", w.Code, w.Body, c.IsAborted())
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestReadBody(t *testing.T) {
	t.Parallel()
	const max = 8
	tests := []struct {
		name     string
		body     io.Reader
		cl       int64
		want     string
		tooLarge bool
		err      bool
	}{
		{"no body", nil, 0, "", false, false},
		{"NoBody", http.NoBody, 0, "", false, false},
		{"known length", strings.NewReader("abc"), 3, "abc", false, false},
		{"exactly max", strings.NewReader("12345678"), 8, "12345678", false, false},
		{"declared too large", strings.NewReader("123456789"), 9, "", true, false},
		{"chunked within", strings.NewReader("1234567"), -1, "1234567", false, false},
		{"chunked exactly max", strings.NewReader("12345678"), -1, "12345678", false, false},
		{"chunked too large", strings.NewReader("123456789"), -1, "", true, false},
		{"lying length", strings.NewReader("123456789"), 2, "", true, false},
		{"read error", errReader{}, -1, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Body, r.ContentLength = nil, tt.cl
			if tt.body != nil {
				r.Body = io.NopCloser(tt.body)
				if tt.body == http.NoBody {
					r.Body = http.NoBody
				}
			}
			got, tooLarge, err := readBody(r, max)
			if string(got) != tt.want || tooLarge != tt.tooLarge || (err != nil) != tt.err {
				t.Errorf("readBody = %q, %v, %v", got, tooLarge, err)
			}
		})
	}
}

// TestReadErrorIsRendered: a failing body read is answered by the Guard
// (400 once the caller is authenticated) and stops the chain.
func TestReadErrorIsRendered(t *testing.T) {
	t.Parallel()
	g, err := core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: okVerifier{}, AuthenticateOnly: true,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://as.example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodPost, "/mcp", io.NopCloser(errReader{}))
	c.Request.ContentLength = -1
	c.Request.Header.Set("Authorization", "Bearer abc")
	Middleware(g)(c)
	if w.Code != http.StatusBadRequest || !c.IsAborted() {
		t.Errorf("status %d aborted %v", w.Code, c.IsAborted())
	}
}

type okVerifier struct{}

func (okVerifier) Verify(_ context.Context, _ string) (*core.Claims, error) {
	return &core.Claims{Issuer: "https://as.example.com", Subject: "alice", Expiry: time.Now().Add(time.Hour)}, nil
}
