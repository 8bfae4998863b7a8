package client

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func BenchmarkParseBearerChallenge(b *testing.B) {
	h := http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="mcp:tools mcp:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", error_description="tools/call delete_repo requires mcp:tools:write"`}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBearerChallenge(h); err != nil {
			b.Fatal(err)
		}
	}
}

// stubRT answers 200 without network I/O.
type stubRT struct{}

func (stubRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
}

const benchBody = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}`

func benchRoundTrip(b *testing.B, rt http.RoundTripper) {
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "https://mcp.example.com/mcp", strings.NewReader(benchBody))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkRoundTrip compares the bare transport (baseline) with the
// authorizing Transport on the hot path (cached, valid token).
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("baseline", func(b *testing.B) { benchRoundTrip(b, stubRT{}) })
	b.Run("authorized", func(b *testing.B) {
		a, err := New(Config{ServerURL: "https://mcp.example.com/mcp", Grant: mustCCNoT(basicCreds())})
		if err != nil {
			b.Fatal(err)
		}
		a.d = &Discovery{Resource: "https://mcp.example.com/mcp", AuthServer: &AuthServerMetadata{Issuer: "https://as"}}
		a.tok = &Token{AccessToken: "at", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
		benchRoundTrip(b, &Transport{Authorizer: a, Base: stubRT{}})
	})
}
