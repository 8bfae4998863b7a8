package authserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// All JOSE calls of the package live in this file.

// allAlgorithms is the parse-time allow-list for ID-JAGs, whose issuer (and
// thus the real allow-list) is known only after parsing; the IdP's list is
// enforced right after.
var allAlgorithms = []string{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// parsedJWT is a compact JWS that passed structural checks, with its claims.
// Its signature is unchecked until verify returns nil.
type parsedJWT struct {
	tok    *jose.Token
	claims claimSet
}

func parseJWT(raw string, algs []string) (*parsedJWT, error) {
	t, err := jose.ParseCompact(raw, jose.ParseOptions{MaxLength: DefaultMaxAssertionBytes, Algorithms: algs})
	if err != nil {
		return nil, err
	}
	c, err := t.Claims()
	if err != nil {
		return nil, err
	}
	return &parsedJWT{tok: t, claims: c}, nil
}

func (p *parsedJWT) typ() string { return p.tok.Header.Typ }
func (p *parsedJWT) alg() string { return p.tok.Header.Alg }

// verify checks the signature with a key from ks. The error wraps
// jose.ErrUnavailable when the key set cannot be obtained.
func (p *parsedJWT) verify(ctx context.Context, ks jose.KeySet) error {
	_, err := jose.VerifyToken(ctx, p.tok, ks)
	return err
}

func isUnavailable(err error) bool { return errors.Is(err, jose.ErrUnavailable) }

// keySet builds the verification keys of a client or IdP from an inline JWK
// Set or a jwks_uri.
func (s *Server) keySet(inline []byte, uri string, algs []string, hc *http.Client) (jose.KeySet, error) {
	if len(inline) > 0 {
		keys, err := jose.ParseJWKS(inline, jose.KeySetOptions{Algorithms: algs, Logger: s.log})
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, errors.New("the JWK Set has no usable signing key")
		}
		return jose.NewStaticKeySet(keys...), nil
	}
	if _, err := checkServiceURL(uri); err != nil {
		return nil, fmt.Errorf("jwks_uri %s", err)
	}
	return jose.NewRemoteKeySet(jose.RemoteKeySetConfig{
		URL:             uri,
		HTTPClient:      hc,
		Algorithms:      algs,
		RefreshInterval: 15 * time.Minute,
		Now:             s.now,
		Logger:          s.log,
	})
}

// signAccessToken signs claims as an RFC 9068 JWT with the current key.
func (s *Server) signAccessToken(claims map[string]any) (string, string, error) {
	k := s.keys.Load().current
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", "", err
	}
	tok, err := jose.Sign(k.signer, jose.Header{Alg: k.alg, Kid: k.kid, Typ: "at+jwt"}, payload)
	return tok, k.kid, err
}

// newTokenID returns 128 random bits, base64url-encoded.
func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
