package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
)

// One identifier redeemed at once through GrantStores and through separate
// ReplayStores (a rolling upgrade) on one Redis: exactly one use passes.
func TestReviewMixedModesOneUse(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	const replicas = 6
	var grants []*GrantStore
	var plain []*ReplayStore
	for i := 0; i < replicas; i++ {
		cfg := ReplayConfig{Config: Config{Client: srv.patient(t)}}
		if i%2 == 0 {
			g, err := NewGrantStore(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			grants = append(grants, g)
		} else {
			r, err := NewReplayStore(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			plain = append(plain, r)
		}
	}
	exp := time.Now().Add(time.Minute)
	big := authserver.Limit{PerSecond: 1000, Burst: 1000}
	for round := 0; round < 20; round++ {
		key := "idjag|https://idp|jti-" + strings.Repeat("x", round)
		var mu sync.Mutex
		ok, replays := 0, 0
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			for _, g := range grants {
				wg.Add(1)
				go func(g *GrantStore) {
					defer wg.Done()
					res, err := g.RunGrantSteps(ctx, []authserver.GrantStep{
						{Kind: authserver.StepCharge, Key: "grant|c", Limit: big},
						{Kind: authserver.StepConsume, Key: key, Exp: exp},
					})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Error(err)
					case res.Refused == -1:
						ok++
					case res.Refused == 1:
						replays++
					default:
						t.Errorf("refused %d", res.Refused)
					}
				}(g)
			}
			for _, r := range plain {
				wg.Add(1)
				go func(r *ReplayStore) {
					defer wg.Done()
					err := r.CheckAndStore(ctx, key, exp)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, replay.ErrReplay):
						replays++
					default:
						t.Error(err)
					}
				}(r)
			}
		}
		wg.Wait()
		if ok != 1 || replays != 4*replicas-1 {
			t.Fatalf("round %d: %d accepted, %d replays", round, ok, replays)
		}
	}
}

// Redis misbehaving under the grant script: every case fails closed with
// core.ErrStoreUnavailable within the timeout, or answers correctly.
func TestReviewGrantStepsRedisTrouble(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	admin := srv.client(t)
	g, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: srv.client(t), Timeout: 500 * time.Millisecond}, Quarantine: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	big := authserver.Limit{PerSecond: 1000, Burst: 1000}
	steps := func(jti string) []authserver.GrantStep {
		return []authserver.GrantStep{
			{Kind: authserver.StepCheckFailures, Key: "authfail|c|s", Limit: big, GlobalKey: "authfail-global", GlobalLimit: big},
			{Kind: authserver.StepCharge, Key: "grant|c", Limit: big},
			{Kind: authserver.StepConsume, Key: jti, Exp: exp},
		}
	}
	// Script cache flushed: NOSCRIPT is handled (EVAL fallback).
	if err := admin.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if res, err := g.RunGrantSteps(ctx, steps("a")); err != nil || res.Refused != -1 {
		t.Fatalf("after SCRIPT FLUSH: %+v %v", res, err)
	}
	if res, err := g.RunGrantSteps(ctx, steps("a")); err != nil || res.Refused != 2 {
		t.Fatalf("replay after SCRIPT FLUSH: %+v %v", res, err)
	}
	// Wrong types at the keys the script reads.
	if err := admin.LPush(ctx, g.key("rl", "grant|w"), "x").Err(); err != nil {
		t.Fatal(err)
	}
	_, err = g.RunGrantSteps(ctx, []authserver.GrantStep{{Kind: authserver.StepCharge, Key: "grant|w", Limit: big}})
	if !errors.Is(err, core.ErrStoreUnavailable) {
		t.Errorf("list at a bucket key: %v", err)
	}
	if err := admin.HSet(ctx, g.key("jti", "h"), "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if res, err := g.RunGrantSteps(ctx, steps("h")); err == nil && res.Refused == -1 {
		t.Errorf("hash at a jti key accepted the identifier")
	}
	// Too long an identifier; key-name delimiters are hashed away.
	if _, err := g.RunGrantSteps(ctx, steps(strings.Repeat("j", 4097))); !errors.Is(err, replay.ErrInvalidKey) {
		t.Errorf("4097-byte key: %v", err)
	}
	if res, err := g.RunGrantSteps(ctx, steps("jti:*\r\nFLUSHALL\r\n{tag}")); err != nil || res.Refused != -1 {
		t.Errorf("delimiters: %+v %v", res, err)
	}
	if n, err := admin.DBSize(ctx).Result(); err != nil || n < 3 {
		t.Errorf("dbsize %d %v", n, err)
	}
	// A slow Redis: the call is bounded by the timeout and fails closed.
	// (DEBUG is disabled on a stock redis-server; CLIENT PAUSE holds every
	// client's commands, scripts included.)
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = g.RunGrantSteps(ctx, steps("slow"))
	if !errors.Is(err, core.ErrStoreUnavailable) || time.Since(start) > 1400*time.Millisecond {
		t.Errorf("slow Redis: %v after %v", err, time.Since(start))
	}
	if err := srv.patient(t).Ping(ctx).Err(); err != nil { // waits out the pause
		t.Fatal(err)
	}
	// Cancelled request context: fails at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.RunGrantSteps(cctx, steps("cancelled")); err == nil {
		t.Errorf("cancelled context accepted")
	}
	// Restarted empty: quarantine, then the identifiers are recorded again.
	srv.Stop()
	srv.Start()
	if _, err := g.RunGrantSteps(ctx, steps("a")); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("after an empty restart: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := g.RunGrantSteps(ctx, steps("a"))
		if err == nil {
			if res.Refused != -1 {
				t.Fatalf("after quarantine: %+v", res)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res, err := g.RunGrantSteps(ctx, steps("a")); err != nil || res.Refused != 2 {
		t.Fatalf("replay after quarantine: %+v %v", res, err)
	}
}
