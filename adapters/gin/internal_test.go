package ginmcp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mcpauthz/mcpauthz/core"
)

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

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
