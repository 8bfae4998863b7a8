package redisstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// One refresh token rotated at once on several replicas: exactly one
// rotation wins; the losers see a reuse, which revokes the family on every
// replica (the winner's new token included).
func TestReviewRefreshRotationRace(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	var stores []*RefreshStore
	for i := 0; i < 4; i++ {
		s, err := NewRefreshStore(RefreshConfig{Config: Config{Client: srv.patient(t), Timeout: 20 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	for round := 0; round < 10; round++ {
		fam := "f" + strconv.Itoa(round)
		tok := rtok(fam+"-t", 1)
		now := time.Now()
		if err := stores[0].Save(ctx, tok, authserver.RefreshFamily{ID: fam, ClientID: "app", Subject: "alice", Created: now, LastUsed: now}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		won, reused, unknown := 0, 0, 0
		winner := authserver.RefreshToken{}
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				next := authserver.RefreshToken{Handle: tok.Handle, Generation: 2, SecretHash: fam + "-n" + strconv.Itoa(i)}
				_, err := stores[i%len(stores)].Rotate(ctx, tok, next.SecretHash, time.Now())
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
					winner = next
				case errors.Is(err, authserver.ErrRefreshReused):
					reused++
				case errors.Is(err, authserver.ErrRefreshUnknown):
					unknown++ // the family was already revoked by a reuse
				default:
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		if won != 1 || reused < 1 || won+reused+unknown != 12 {
			t.Fatalf("round %d: won %d reused %d unknown %d", round, won, reused, unknown)
		}
		for _, s := range stores {
			if _, err := s.Rotate(ctx, winner, fam+"-x", time.Now()); !errors.Is(err, authserver.ErrRefreshUnknown) {
				t.Fatalf("round %d: winner's token after the reuse: %v", round, err)
			}
		}
	}
	if n, err := srv.client(t).DBSize(ctx).Result(); err != nil || n > 2 {
		t.Errorf("%d keys left after every family was revoked (%v)", n, err)
	}
}

// Creates for one principal raced on several Guard replicas: the cap holds
// across them (Bind checks it atomically; Count only pre-filters).
func TestReviewSessionCapRace(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	var reps []*SessionBindings
	for i := 0; i < 4; i++ {
		s, err := NewSessionBindings(Config{Client: srv.patient(t), Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, s)
	}
	const max = 3
	var mu sync.Mutex
	bound, limited := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := reps[i%len(reps)]
			n, err := s.Count(ctx, "alice")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if n >= max {
				limited++
				mu.Unlock()
				return
			}
			mu.Unlock()
			err = s.Bind(ctx, "sess-"+strconv.Itoa(i), "alice", time.Minute, max)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				bound++
			case errors.Is(err, core.ErrSessionLimit):
				limited++
			default:
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if bound != max || limited != 40-max {
		t.Fatalf("bound %d limited %d, want %d and %d", bound, limited, max, 40-max)
	}
	if n, err := reps[1].Count(ctx, "alice"); err != nil || n != max {
		t.Fatalf("count %d %v", n, err)
	}
}
