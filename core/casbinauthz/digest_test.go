package casbinauthz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestPolicyDigestFollowsReload(t *testing.T) {
	t.Parallel()
	text := mustPolicy(t, "rbac")
	src := &mutableSource{text: text}
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	var _ core.PolicyDigester = a
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	if got := a.PolicyDigest(); got != sum(text) {
		t.Fatalf("digest = %s, want %s", got, sum(text))
	}
	src.text = text + "\np, user:zed, tool:zz, call, allow\n"
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := a.PolicyDigest(); got != sum(src.text) {
		t.Fatalf("after reload: digest = %s, want %s", got, sum(src.text))
	}
}

type mutableSource struct{ text string }

func (m *mutableSource) Load(context.Context) ([]byte, error) { return []byte(m.text), nil }

func TestReady(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: &mutableSource{text: mustPolicy(t, "rbac")}})
	if err != nil {
		t.Fatal(err)
	}
	var _ core.ReadinessChecker = a
	if err := a.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := (&Authorizer{}).Ready(context.Background()); err == nil {
		t.Fatal("an Authorizer without policy is ready")
	}
}
