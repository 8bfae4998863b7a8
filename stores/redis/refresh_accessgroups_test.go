package redisstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestRefreshStoreKeepsAccessGroups: the groups a refresh re-checks
// against the broker's current access rules (RefreshFamily.AccessGroups,
// attack-5) survive Save, Peek and Rotate on Redis, so every replica
// applies the same rule change.
func TestRefreshStoreKeepsAccessGroups(t *testing.T) {
	srv := startRedis(t)
	s, err := NewRefreshStore(RefreshConfig{Config: Config{Client: srv.client(t)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	f := authserver.RefreshFamily{ID: "fam-1", ClientID: "app", Subject: "alice", Resource: "https://mcp.example.com/mcp",
		Scopes: []string{"mcp:tools"}, Created: now, LastUsed: now, AccessGroups: []string{"eng", "admins"}}
	if err := s.Save(ctx, rtok("h", 1), f); err != nil {
		t.Fatal(err)
	}
	got, err := s.Peek(ctx, rtok("h", 1))
	if err != nil || !slices.Equal(got.AccessGroups, f.AccessGroups) {
		t.Fatalf("Peek: %v, groups %v", err, got.AccessGroups)
	}
	got, err = s.Rotate(ctx, rtok("h", 1), rsec("h", 2), now.Add(time.Second))
	if err != nil || !slices.Equal(got.AccessGroups, f.AccessGroups) {
		t.Fatalf("Rotate: %v, groups %v", err, got.AccessGroups)
	}
}
