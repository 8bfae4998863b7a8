package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/redis/rueidis"
)

// After a streamed call times out, its connection is not reused: the
// late answer to that call (here a pass) is never read as the answer to
// the next one (here a replay, which must stay a refusal).
func TestSendGrantStepsLateReplyNotReused(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	admin := srv.client(t)
	snd := srv.senderWith(t, func(o *rueidis.ClientOption) { o.BlockingPoolSize = 1 })
	g, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: srv.client(t), Timeout: 200 * time.Millisecond}, Sender: snd})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	consume := func(k string) (authserver.GrantStepsResult, error) {
		return g.SendGrantSteps(ctx, []authserver.GrantStep{{Kind: authserver.StepConsume, Key: k, Exp: exp}})()
	}
	if res, err := consume("idjag|i|used"); err != nil || res.Refused != -1 {
		t.Fatalf("first use: %+v %v", res, err)
	}
	// Only writes are paused: EVALSHA waits, the admin's UNPAUSE does not.
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "600", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := consume("idjag|i|late"); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("paused: %v, want ErrStoreUnavailable", err)
	}
	if err := admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the late "0:-1:…" is on the wire by now
	if res, err := consume("idjag|i|used"); err != nil || res.Refused != 0 {
		t.Fatalf("replay after a timed-out call: %+v %v, want refused step 0", res, err)
	}
}

// A request context cancelled while the streamed call takes its pooled
// connection (a client that hangs up) must not lose that connection for
// good: with a pool of one, later grants still get an answer.
func TestSendGrantStepsCancelKeepsPool(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	snd := srv.senderWith(t, func(o *rueidis.ClientOption) { o.BlockingPoolSize = 1 })
	g, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: srv.client(t), Timeout: 300 * time.Millisecond}, Sender: snd})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	steps := []authserver.GrantStep{{Kind: authserver.StepCharge, Key: "c", Limit: authserver.Limit{PerSecond: 1e6, Burst: 1e6}}}
	done := make(chan error, 1)
	go func() { // before the fix this hung for good: bound it
		for i := 0; i < 3000; i++ {
			cctx, cancel := context.WithCancel(ctx)
			go cancel()
			_, _ = g.SendGrantSteps(cctx, steps)()
			cancel()
		}
		res, err := g.SendGrantSteps(ctx, []authserver.GrantStep{{Kind: authserver.StepConsume, Key: "idjag|i|after", Exp: exp}})()
		if err == nil && res.Refused != -1 {
			err = fmt.Errorf("%+v, want a pass", res)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after cancelled calls: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a grant waited 30 s for the Sender's pool after cancelled calls")
	}
}
