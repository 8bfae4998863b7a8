package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// tokenResponse is the RFC 6749 §5.1 success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// grant is what a grant handler decided; issue turns it into a token.
type grant struct {
	subject  string
	resource string
	scopes   []string
	extra    map[string]any // provenance and mapped IdP claims

	refreshFamily *RefreshFamily // family to start (code grants of refresh clients)
	refreshToken  string         // rotated refresh token (refresh grant)
	codeExp       time.Time      // expiry of the code that starts refreshFamily
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if ctx, sp := otelx.Start(r.Context(), s.tel.tracer, SpanGrant, trace.SpanKindServer); sp != nil {
		r = r.WithContext(ctx)
		defer sp.End()
	}
	ev := &auditEvent{}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		oe := newErr(http.StatusMethodNotAllowed, codeInvalidRequest, "the token endpoint accepts POST only", nil)
		s.audit(r.Context(), ev, oe)
		writeError(w, oe)
		return
	}
	res, oe := s.handleToken(r, ev)
	if oe != nil {
		s.audit(r.Context(), ev, oe)
		writeError(w, oe)
		return
	}
	s.audit(r.Context(), ev, nil)
	h := w.Header()
	setNoStore(h)
	h.Set("Content-Type", "application/json")
	b, _ := json.Marshal(res)
	_, _ = w.Write(b)
}

func (s *Server) handleToken(r *http.Request, ev *auditEvent) (*tokenResponse, *oauthError) {
	if r.URL.RawQuery != "" {
		return nil, errRequest("parameters must be sent in the request body, not the query", nil)
	}
	if err := checkFormContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, errRequest(err.Error(), nil)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, errRequest("Content-Encoding is not supported", nil)
	}
	if r.ContentLength > s.maxBody {
		return nil, newErr(http.StatusRequestEntityTooLarge, codeInvalidRequest, "request body too large", nil)
	}
	if r.Body == nil {
		return nil, errRequest("grant_type is missing", nil)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if err != nil {
		return nil, errRequest("cannot read the request body", err)
	}
	if int64(len(body)) > s.maxBody {
		return nil, newErr(http.StatusRequestEntityTooLarge, codeInvalidRequest, "request body too large", nil)
	}
	form, err := parseForm(string(body))
	if err != nil {
		return nil, errRequest("malformed request body", err)
	}
	gt := form["grant_type"]
	ev.grantType = gt
	switch gt {
	case "":
		return nil, errRequest("grant_type is missing", nil)
	case GrantClientCredentials, GrantJWTBearer:
	case GrantAuthorizationCode, GrantRefreshToken:
		if s.broker == nil {
			return nil, newErr(http.StatusBadRequest, codeUnsupportedGrantType, "unsupported grant_type", nil)
		}
	default:
		return nil, newErr(http.StatusBadRequest, codeUnsupportedGrantType, "unsupported grant_type", nil)
	}
	ctx, adm := s.newAdmission(r.Context())
	res, oe := s.grantToken(ctx, adm, r, gt, form, ev)
	// Every rate-limit and replay step is answered before anything is
	// returned; a refused or failed step comes first (it ran before
	// whatever failed after it) and discards a token signed meanwhile.
	if foe := adm.flush(ctx); foe != nil {
		res, oe = nil, foe
		ev.tokenJTI, ev.kid = "", ""
	}
	return res, oe
}

// grantToken authenticates the client, runs the grant and issues the
// tokens. With a GrantSteps store its rate-limit and replay steps are sent
// in one batch once the grant is verified (issueChecked).
func (s *Server) grantToken(ctx context.Context, adm *admission, r *http.Request, gt string, form map[string]string, ev *auditEvent) (*tokenResponse, *oauthError) {
	c, oe := s.tokenClient(ctx, r, gt, form, ev)
	if oe != nil {
		return nil, oe
	}
	limitKey := c.id
	if c.public {
		// anyone may speak for a public client: charge its bucket per
		// source, so others cannot use up its users' grant rate
		src := s.clientAddr(r)
		if len(src) > 256 {
			src = src[:256]
		}
		limitKey = c.id + "|" + src
	}
	if oe := s.grantLimit(ctx, limitKey); oe != nil {
		return nil, oe
	}
	if !c.grants[gt] {
		return nil, newErr(http.StatusBadRequest, codeUnauthorizedClient, "the client may not use this grant type", nil)
	}
	var g *grant
	switch gt {
	case GrantClientCredentials:
		g, oe = s.grantClientCredentials(c, form, ev)
	case GrantJWTBearer:
		g, oe = s.grantJWTBearer(ctx, c, form, ev)
	case GrantAuthorizationCode, GrantRefreshToken:
		// their steps depend on the store's answers: run them one by one
		if oe := adm.flushNow(ctx); oe != nil {
			return nil, oe
		}
		if gt == GrantAuthorizationCode {
			g, oe = s.grantAuthorizationCode(ctx, c, form, ev)
		} else {
			g, oe = s.grantRefreshToken(ctx, c, form, ev)
		}
	}
	if oe != nil {
		return nil, oe
	}
	res, oe := s.issueChecked(ctx, adm, c, g, ev)
	if oe != nil {
		return nil, oe
	}
	if res.RefreshToken, oe = s.issueRefresh(ctx, g); oe != nil {
		return nil, oe
	}
	return res, nil
}

// issueChecked mints the access token for g once the pending steps of adm
// have passed. With steps still to send to a GrantStepsSender, they are
// sent first and the token is signed on this goroutine before their answer
// is read; it is dropped when a step is refused or the store fails.
// Otherwise, with steps still to send (a GrantSteps store) and
// Config.SignWhileStoring, the token is signed on another goroutine while
// this one waits for the store, and is dropped likewise.
func (s *Server) issueChecked(ctx context.Context, adm *admission, c *client, g *grant, ev *auditEvent) (*tokenResponse, *oauthError) {
	if wait, ok := adm.send(ctx); ok {
		// the store works while this goroutine signs
		res, jti, kid, oe := s.sign(c, g)
		if foe := wait(); foe != nil {
			return nil, foe
		}
		if oe != nil {
			return nil, oe
		}
		ev.tokenJTI, ev.kid = jti, kid
		return res, nil
	}
	if !adm.queued() || !s.signWhileStoring {
		if oe := adm.flush(ctx); oe != nil {
			return nil, oe
		}
		return s.issue(c, g, ev)
	}
	type signed struct {
		res      *tokenResponse
		jti, kid string
		oe       *oauthError
	}
	ch := make(chan signed, 1)
	go func() {
		var sg signed
		sg.res, sg.jti, sg.kid, sg.oe = s.sign(c, g)
		ch <- sg
	}()
	foe := adm.flush(ctx)
	sg := <-ch
	if foe != nil {
		return nil, foe
	}
	if sg.oe != nil {
		return nil, sg.oe
	}
	ev.tokenJTI, ev.kid = sg.jti, sg.kid
	return sg.res, nil
}

// issue mints the RFC 9068 access token for g.
func (s *Server) issue(c *client, g *grant, ev *auditEvent) (*tokenResponse, *oauthError) {
	res, jti, kid, oe := s.sign(c, g)
	if oe != nil {
		return nil, oe
	}
	ev.tokenJTI, ev.kid = jti, kid
	return res, nil
}

// sign builds and signs the access token for g; it returns the token's jti
// and key id for the audit event.
func (s *Server) sign(c *client, g *grant) (*tokenResponse, string, string, *oauthError) {
	now := s.now()
	jti := newTokenID()
	claims := make(map[string]any, 8+len(g.extra))
	for k, v := range g.extra {
		claims[k] = v
	}
	claims["iss"] = s.issuer
	claims["sub"] = g.subject
	claims["aud"] = g.resource
	claims["client_id"] = c.id
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(s.atLifetime).Unix()
	claims["jti"] = jti
	scope := strings.Join(g.scopes, " ")
	if scope != "" {
		claims["scope"] = scope
	}
	tok, kid, err := s.signAccessToken(claims)
	if err != nil {
		return nil, "", "", newErr(http.StatusInternalServerError, codeServerError, "cannot sign the access token", err)
	}
	return &tokenResponse{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int64(s.atLifetime / time.Second),
		Scope:       scope,
	}, jti, kid, nil
}

// selectResourceCC picks the audience of a client_credentials token.
func (s *Server) selectResourceCC(c *client, requested string) (*resource, *oauthError) {
	id := requested
	if id == "" {
		id = s.defaultResource
	}
	r := s.resources[id]
	if r == nil {
		return nil, errTarget("unknown resource", nil)
	}
	if c.resources != nil && !c.resources[id] {
		return nil, errTarget("the client may not obtain tokens for this resource", nil)
	}
	return r, nil
}

func (s *Server) grantClientCredentials(c *client, form map[string]string, ev *auditEvent) (*grant, *oauthError) {
	ev.sub = c.id
	r, oe := s.selectResourceCC(c, form["resource"])
	if oe != nil {
		return nil, oe
	}
	ev.resource = r.id
	available := intersect(r.scopes, c.scopes)
	scopes, oe := decideScopes(available, form["scope"], s.strictScopes)
	if oe != nil {
		return nil, oe
	}
	ev.scopes = scopes
	// RFC 9068 §2.2: for client-only grants sub is the client id; no user
	// claims are added, so resource servers can tell clients from users by
	// sub == client_id.
	return &grant{subject: c.id, resource: r.id, scopes: scopes}, nil
}

var errReplayed = errors.New("identifier already used")
