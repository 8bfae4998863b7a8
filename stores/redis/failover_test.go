package redisstore

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Failover tests: assertions live at most failLife, the server's Leeway
// and ReplayClockSkew are 1 ms, so that a quarantine of failQuarantine
// outlasts every assertion accepted before it by 3 s: enough when the
// master crashes (it takes no writes after the promotion).
// sentinelQuarantine outlasts them by 23 s: after SENTINEL FAILOVER the
// old master still takes writes until a sentinel demotes it, and a client
// that has not followed the switch yet writes marks there that the new
// master never gets. A sentinel demotes it at an INFO of it (every 10 s)
// once it has reported itself master for 8 s, was not seen down for 8 s
// and the new master looks sane: about 10 s after the switch (9.6-10.5 s
// after the quarantine began in 28 runs at load 5-14), but one INFO
// period later when a condition fails at that INFO (a PING answered
// later than the first sentinel's 1 s down-after, under load). With
// 15 s (13 s to spare, 3 s past a demotion at 10 s) one run at a load of
// ~11 accepted an assertion twice; with 3 s to spare, 2 of 3 runs at ~20.
const (
	failLife           = 2 * time.Second
	failQuarantine     = 5 * time.Second
	sentinelQuarantine = 25 * time.Second
)

func failoverServerConfig(opts map[string]any, quarantine time.Duration) {
	opts["quarantine"] = quarantine.String()
}

// redemptions runs concurrent redemptions against c until stop: each
// fresh client assertion is sent twice at once, and assertions accepted
// earlier are sent again. It counts the assertions accepted more than
// once (doubles) and the answers by status.
type redemptions struct {
	t        *testing.T
	c        *cluster
	hc       *http.Client
	mu       sync.Mutex
	accepted map[string]int
	recent   []string
	counts   map[string]int
	start    time.Time                  // of the redemptions
	at       map[string][]time.Duration // acceptances of each assertion, after start
	doubles  int
	bad      []string
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

func startRedemptions(t *testing.T, c *cluster, workers int) *redemptions {
	r := &redemptions{t: t, c: c, hc: httpFrom("127.0.0.1"), accepted: map[string]int{}, counts: map[string]int{},
		start: time.Now(), at: map[string][]time.Duration{}, stop: make(chan struct{})}
	for range workers {
		r.wg.Add(1)
		go r.work()
	}
	t.Cleanup(r.halt)
	return r
}

// redeem sends assertion a once and records the answer.
func (r *redemptions) redeem(a, what string) result {
	res := r.c.token(r.t, r.hc, assertionForm(a), false)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[what+" "+strconv.Itoa(res.status)]++
	switch res.status {
	case 200:
		r.accepted[a]++
		r.at[a] = append(r.at[a], time.Since(r.start))
		if r.accepted[a] > 1 {
			r.doubles++
			r.t.Logf("an assertion accepted again (%s): accepted %v after the redemptions began", what, r.at[a])
		}
		r.recent = append(r.recent, a)
		if len(r.recent) > 32 {
			r.recent = r.recent[1:]
		}
	case 401, 503:
	default:
		if len(r.bad) < 10 {
			r.bad = append(r.bad, what+": "+strconv.Itoa(res.status)+" "+res.err)
		}
	}
	return res
}

func (r *redemptions) work() {
	defer r.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-r.stop:
			return
		default:
		}
		a := r.c.assertionFor(r.t, failLife)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); r.redeem(a, "fresh") }()
		}
		wg.Wait()
		r.mu.Lock()
		var old string
		if n := len(r.recent); n > 0 {
			old = r.recent[i%n]
		}
		r.mu.Unlock()
		if old != "" {
			r.redeem(old, "again")
		}
		// Leave the CPUs to Redis and the sentinels on a small machine.
		select {
		case <-r.stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitAccepted waits until n more assertions have been accepted (at most
// 30 s), so that redemptions are under way across the next event.
func (r *redemptions) waitAccepted(n int) {
	r.t.Helper()
	r.mu.Lock()
	want := len(r.accepted) + n
	r.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.accepted)
		r.mu.Unlock()
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d assertions accepted in 30 s, want %d", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *redemptions) halt() { r.once.Do(func() { close(r.stop); r.wg.Wait() }) }

// check stops the redemptions and fails the test on a double or an
// answer other than 200, 401 and 503.
func (r *redemptions) check() {
	r.t.Helper()
	r.halt()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t.Logf("redemptions: %d assertions accepted, answers %v", len(r.accepted), r.counts)
	if r.doubles != 0 {
		r.t.Errorf("%d client assertions accepted more than once", r.doubles)
	}
	if len(r.bad) > 0 {
		r.t.Errorf("answers other than 200, 401, 503: %v", r.bad)
	}
}

// waitGrants waits until a fresh assertion is accepted again after a
// failover: through the quarantine (Ready names its end) and the client's
// reconnection; at most sentinelQuarantine + 40 s.
func waitGrants(t *testing.T, c *cluster, gs *GrantStore) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(sentinelQuarantine + 40*time.Second)
	hc := httpFrom("127.0.0.1")
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := gs.Ready(ctx)
		cancel()
		var qe *QuarantineError
		switch {
		case errors.As(err, &qe):
			time.Sleep(time.Until(qe.Until) + 10*time.Millisecond)
		case err != nil:
			time.Sleep(50 * time.Millisecond)
		default:
			r := c.token(t, hc, assertionForm(c.assertionFor(t, failLife)), false)
			if r.status == 200 {
				return time.Since(start)
			}
			if r.status != 503 {
				t.Fatalf("grant after the failover: %+v", r)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no grant within %v of the failover: %v", time.Since(start), err)
		}
	}
}

// checkQuarantined checks that the epoch key on the new master names that
// master's replication id and a quarantine: a grant store saw the
// failover.
func checkQuarantined(t *testing.T, master *redis.Client, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := master.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(info, "master_replid:")
	rid, _, _ := strings.Cut(rest, "\r\n")
	v, err := master.Get(ctx, key).Result()
	if err != nil {
		t.Fatalf("epoch key on the new master: %v", err)
	}
	got, until, _ := strings.Cut(v, ":")
	if got != rid || until == "0" {
		t.Fatalf("epoch key on the new master %q, want its replication id %s and a quarantine", v, rid)
	}
}
