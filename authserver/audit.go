package authserver

import (
	"context"
	"log/slog"

	"github.com/mcpauthz/mcpauthz/core"
)

// auditEvent collects what one token request decided. It never holds a
// secret, an assertion or an issued token: only identifiers.
type auditEvent struct {
	grantType    string
	authMethod   string
	clientID     string // as claimed before authentication, as proven after
	assertionJTI string // private_key_jwt client assertion "jti"
	iss          string // ID-JAG issuer
	sub          string // token subject
	jti          string // ID-JAG "jti"
	resource     string
	scopes       []string
	tokenJTI     string // "jti" of the issued access token
	kid          string // key that signed it
}

// audit logs one "authserver.grant" event per decision: Info when a token
// is issued, Warn when the request is refused (with the error code and the
// internal reason, which names claims but never contains token material).
func (s *Server) audit(ctx context.Context, ev *auditEvent, oe *oauthError) {
	s.tel.record(ctx, ev, oe)
	attrs := []slog.Attr{
		slog.String("grant_type", truncateForLog(ev.grantType)),
		slog.String("auth_method", truncateForLog(ev.authMethod)),
		slog.String("client_id", truncateForLog(ev.clientID)),
	}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, truncateForLog(v)))
		}
	}
	add("client_assertion_jti", ev.assertionJTI)
	add("iss", ev.iss)
	add("sub", ev.sub)
	add("jti", ev.jti)
	add("resource", ev.resource)
	if ev.scopes != nil {
		// Granted scopes come from the configuration; bounded all the same.
		scopes := ev.scopes[:min(len(ev.scopes), core.MaxLogItems)]
		bounded := make([]string, len(scopes))
		for i, sc := range scopes {
			bounded[i] = truncateForLog(sc)
		}
		attrs = append(attrs, slog.Any("scopes", bounded))
	}
	if oe == nil {
		attrs = append(attrs, slog.String("outcome", "granted"), slog.String("token_jti", truncateForLog(ev.tokenJTI)), slog.String("kid", truncateForLog(ev.kid)))
		s.log.LogAttrs(ctx, slog.LevelInfo, "authserver.grant", attrs...)
		return
	}
	attrs = append(attrs,
		slog.String("outcome", "denied"),
		slog.String("error", oe.code),
		slog.Int("status", oe.status),
		slog.String("reason", core.TruncateField(oe.Error(), core.MaxLogReason)),
	)
	s.log.LogAttrs(ctx, slog.LevelWarn, "authserver.grant", attrs...)
}
