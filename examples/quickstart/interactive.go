package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// The interactive user of the tour: a standard MCP client (the go-sdk's
// AuthorizationCodeHandler, registered as the public client mcp-client)
// logs dave in through the authorization server's broker. The browser step
// (IdP login page, consent page) is scripted over HTTP by browserLogin, so
// the quickstart needs no browser; interop/browser runs the same flow in a
// real Chromium.

// redirectListener is the client's loopback redirect endpoint
// (http://127.0.0.1:PORT/callback): it keeps the last authorization response.
type redirectListener struct {
	srv *http.Server
	url string

	mu   sync.Mutex
	last *auth.AuthorizationResult
}

func newRedirectListener() (*redirectListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &redirectListener{url: "http://" + ln.Addr().String() + "/callback"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		l.mu.Lock()
		l.last = &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}
		if e := q.Get("error"); e != "" {
			l.last = &auth.AuthorizationResult{State: q.Get("state")}
		}
		l.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "Signed in. You can close this window.\n")
	})
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 32 << 10}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

func (l *redirectListener) take() *auth.AuthorizationResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.last
	l.last = nil
	return r
}

func (l *redirectListener) Close() { _ = l.srv.Close() }

// authCodeSession connects user to the MCP server as a standard MCP client:
// 401 → protected resource metadata → authorization server metadata →
// authorization code + PKCE with the browser step scripted over HTTP →
// token → MCP session. The returned function closes the session and the
// redirect listener.
func authCodeSession(ctx context.Context, st *stack, user string) (*session, func(), error) {
	l, err := newRedirectListener()
	if err != nil {
		return nil, nil, err
	}
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		PreregisteredClient: &oauthex.ClientCredentials{ClientID: publicClientID},
		RedirectURL:         l.url,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			if _, err := browserLogin(ctx, args.URL, user, demoPassword, "allow"); err != nil {
				return nil, err
			}
			r := l.take()
			if r == nil || r.Code == "" {
				return nil, errors.New("the authorization server sent no code to the client")
			}
			return r, nil
		},
	})
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "quickstart-interactive", Version: "1.0.0"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: st.MCP, OAuthHandler: h}, nil)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	s := &session{mcp: cs}
	return s, func() { s.Close(); l.Close() }, nil
}

// interactive is the tour's section for the broker: dave logs in with a
// standard MCP client and sees exactly what his groups allow; erin, whose
// group has no access rule, is refused at the authorization server.
func (t *tour) interactive(ctx context.Context) {
	s, closeSession, err := authCodeSession(ctx, t.st, "dave")
	if err != nil {
		t.expect(false, "dave connects with authorization code + PKCE through the broker: %v", err)
		return
	}
	defer closeSession()
	names := t.toolNames(ctx, s)
	t.expect(slices.Equal(names, []string{"delete_repo", "deploy", "echo", "list_tickets"}),
		"dave  (marketing, admins; logged in at the IdP through the broker) sees tools %v", names)
	t.call(ctx, s, "dave", "delete_repo", true)
	t.call(ctx, s, "dave", "deploy", true) // admins deploy anywhere

	// erin uses the same client; the broker refuses her after the IdP login.
	l, err := newRedirectListener()
	if err != nil {
		t.expect(false, "erin's client: %v", err)
		return
	}
	defer l.Close()
	sum := sha256.Sum256([]byte(rand.Text() + rand.Text()))
	authorize := t.st.ASIssuer + "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {publicClientID}, "redirect_uri": {l.url}, "state": {rand.Text()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {t.st.MCP},
	}.Encode()
	_, err = browserLogin(ctx, authorize, "erin", demoPassword, "allow")
	t.expect(err != nil && strings.Contains(err.Error(), ": 403 ") && strings.Contains(err.Error(), "<title>Access denied</title>") && l.take() == nil,
		"erin  (contractors) is refused by the broker's access policy: %s", refusal(err))
}

// refusal names the outcome of a refused login without the page markup.
func refusal(err error) string {
	if err == nil {
		return "NOT REFUSED"
	}
	if strings.Contains(err.Error(), ": 403 ") {
		return "403 Access denied page, no redirect to the client"
	}
	return short(err)
}
