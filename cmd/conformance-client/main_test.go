package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"github.com/mcpauthz/mcpauthz/core/mcpext"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestBuildGrant(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		scenario string
		sc       scenarioContext
		ext      string
		wantErr  bool
	}{
		{"auth/client-credentials-basic", scenarioContext{ClientID: "c", ClientSecret: "s"}, mcpext.OAuthClientCredentials, false},
		{"auth/client-credentials-jwt", scenarioContext{ClientID: "c", PrivateKeyPEM: keyPEM, SigningAlgorithm: "ES256"}, mcpext.OAuthClientCredentials, false},
		{"auth/client-credentials-jwt", scenarioContext{ClientID: "c", PrivateKeyPEM: "junk"}, "", true},
		{"auth/enterprise-managed-authorization", scenarioContext{ClientID: "c", ClientSecret: "s", IdPClientID: "i",
			IdPIDToken: "t", IdPTokenEndpoint: "http://127.0.0.1:1/token"}, mcpext.EnterpriseManagedAuthorization, false},
		{"auth/enterprise-managed-authorization", scenarioContext{ClientID: "c", ClientSecret: "s"}, "", true},
		{"auth/dpop", scenarioContext{}, "", true},
	}
	for _, tc := range tests {
		g, ext, err := buildGrant(log, tc.scenario, &tc.sc)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v", tc.scenario, err)
			continue
		}
		if !tc.wantErr && (g == nil || ext != tc.ext) {
			t.Errorf("%s: grant %v ext %q", tc.scenario, g, ext)
		}
	}
}

func TestRunRejectsBadContext(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	err := run(context.Background(), log, "http://127.0.0.1:1/mcp", "auth/client-credentials-basic", `{"client_id":"a","client_id":"b"}`)
	if err == nil || !strings.Contains(err.Error(), "MCP_CONFORMANCE_CONTEXT") {
		t.Errorf("err = %v", err)
	}
}
