package replay

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestReplayKeyOwnerCannotCollide: an owner (issuer, client id) holding a
// separator cannot make its identifier land on another owner's key, so
// neither can burn the other's jti nor replay under the other's name.
func TestReplayKeyOwnerCannotCollide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		owner1, id1          string
		owner2, id2          string
		wantPart1, wantPart2 string
	}{
		{name: "colon", owner1: "a:b", id1: "c", owner2: "a", id2: "b:c", wantPart1: "idjag|a:b", wantPart2: "idjag|a"},
		{name: "bar", owner1: "a|b", id1: "c", owner2: "a", id2: "b|c", wantPart1: "idjag|a%7Cb", wantPart2: "idjag|a"},
		{name: "escaped form as the owner", owner1: "a%7Cb", id1: "c", owner2: "a|b", id2: "c", wantPart1: "idjag|a%257Cb", wantPart2: "idjag|a%7Cb"},
		{name: "empty id", owner1: "a|", id1: "", owner2: "a", id2: "|", wantPart1: "idjag|a%7C", wantPart2: "idjag|a"},
		{name: "issuer URL unchanged", owner1: "https://idp.example.com/t/a", id1: "j", owner2: "https://idp.example.com/t", id2: "a|j", wantPart1: "idjag|https://idp.example.com/t/a", wantPart2: "idjag|https://idp.example.com/t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k1, k2 := Key("idjag", tt.owner1, tt.id1), Key("idjag", tt.owner2, tt.id2)
			if k1 == k2 {
				t.Fatalf("Key(%q, %q) == Key(%q, %q) == %q", tt.owner1, tt.id1, tt.owner2, tt.id2, k1)
			}
			if p := Partition(k1); p != tt.wantPart1 {
				t.Errorf("Partition(%q) = %q, want %q", k1, p, tt.wantPart1)
			}
			if p := Partition(k2); p != tt.wantPart2 {
				t.Errorf("Partition(%q) = %q, want %q", k2, p, tt.wantPart2)
			}
			m, err := NewMemory(MemoryConfig{})
			if err != nil {
				t.Fatal(err)
			}
			exp := time.Now().Add(time.Minute)
			ctx := context.Background()
			if err := m.CheckAndStore(ctx, k1, exp); err != nil {
				t.Fatalf("first owner: %v", err)
			}
			if err := m.CheckAndStore(ctx, k2, exp); err != nil {
				t.Fatalf("second owner's identifier refused after the first owner's: %v", err)
			}
			if err := m.CheckAndStore(ctx, k1, exp); err == nil {
				t.Fatal("replay of the first owner's identifier accepted")
			}
		})
	}
}

// TestKeyUnchangedForUsualOwners: an owner without "%" or "|" gives the
// key earlier versions wrote, so replicas of both versions share marks
// during a rolling upgrade.
func TestKeyUnchangedForUsualOwners(t *testing.T) {
	t.Parallel()
	for _, owner := range []string{"https://idp.example.com", "svc-jwt", "https://login.example.com/tenant:1/v2.0", ""} {
		if got, want := Key("idjag", owner, "j|1"), "idjag|"+owner+"|j|1"; got != want {
			t.Errorf("Key(%q) = %q, want %q", owner, got, want)
		}
	}
}

// TestKeyFitsMaxLength: the longest owner the server accepts, every byte
// encoded, with a long jti fits the memory store's key bound.
func TestKeyFitsMaxLength(t *testing.T) {
	t.Parallel()
	k := Key("client_assertion", strings.Repeat("|", 1024), strings.Repeat("j", 256))
	if len(k) > DefaultMaxKeyLength {
		t.Fatalf("key of %d bytes over DefaultMaxKeyLength %d", len(k), DefaultMaxKeyLength)
	}
	m, err := NewMemory(MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckAndStore(context.Background(), k, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}
