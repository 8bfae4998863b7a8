package redisstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/redis/go-redis/v9"
)

// BenchmarkGrantLatency measures one jwt-bearer grant (client_secret_basic
// + ID-JAG) through Server.ServeHTTP, with the default in-memory replay
// store and limiter, with the Redis ones as separate stores (one round trip
// per step, "redis-separate"), with a GrantStore ("redis": one round trip
// per grant) and with a GrantStore and Config.SignWhileStoring
// ("redis-sign-meanwhile"), against a redis-server on loopback.
// It reports p50 and p99 per grant; minting the ID-JAGs is not timed. It
// also reports cpu-µs/grant, the CPU time of this process per grant
// (getrusage: the server, the runtime and the Redis clients), and the Redis
// variants redis-µs/grant, the time Redis spent in commands per grant (INFO
// commandstats), and redis-cpu-µs/grant, redis-server's whole CPU time per
// grant (INFO cpu). On a loaded machine the CPU figures stay comparable
// when the latencies do not. redis-send also reports the p50 of the three
// phases of its one Redis call: write-p50-µs (rueidis's DoStream, the
// EVALSHA written), work-p50-µs (this goroutine's work until it waits: the
// access token signed) and wait-p50-µs (the reply read). A wait near zero
// means the round trip is already hidden behind the signature; what is
// left over memory is then the write and the rest of the client's work.
//
// The Redis configuration is redistest's: redis-server as installed (Debian
// 7.0 here), one process on 127.0.0.1, no RDB snapshots (save ""), no AOF
// (appendonly no), so no write waits for the disk, maxmemory 256mb with
// noeviction, the client from ClientOptions (TCP, RESP3, pool of
// 10 × GOMAXPROCS connections, 1 s per operation).
func BenchmarkGrantLatency(b *testing.B) {
	srv := startRedis(b)
	for _, store := range []string{"memory", "redis-separate", "redis", "redis-sign-meanwhile", "redis-send"} {
		b.Run(store, func(b *testing.B) {
			var phases [][3]time.Duration // redis-send: write, work, wait per grant
			c := &cluster{url: "http://127.0.0.1:1"}
			var err error
			if c.idpKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
				b.Fatal(err)
			}
			c.cliKey, c.signKey = c.idpKey, c.idpKey
			hash, _ := authserver.HashSecret(clSecret)
			cfg := authserver.Config{
				Issuer:      c.url,
				Resources:   []authserver.Resource{{ID: clResource, Scopes: []string{"mcp:tools"}}},
				Clients:     []authserver.Client{{ID: clSecretID, SecretHash: hash, GrantTypes: []string{authserver.GrantJWTBearer}, Scopes: []string{"mcp:tools"}}},
				TrustedIdPs: []authserver.TrustedIdP{{Issuer: clIdP, JWKS: jwksOf(b, c.idpKey, "idp")}},
				SigningKeys: []authserver.SigningKey{{Signer: c.signKey, KeyID: "as"}},
				RateLimit:   authserver.RateLimit{PerSecond: 1e6, Burst: 1e6},
			}
			switch store {
			case "redis", "redis-sign-meanwhile":
				gs, err := NewGrantStore(context.Background(), ReplayConfig{Config: Config{Client: srv.client(b)}})
				if err != nil {
					b.Fatal(err)
				}
				cfg.ReplayStore, cfg.RateLimiter = gs, gs
				cfg.SignWhileStoring = store == "redis-sign-meanwhile"
			case "redis-send":
				gs, err := NewGrantStore(context.Background(), ReplayConfig{Config: Config{Client: srv.client(b)}, Sender: srv.sender(b)})
				if err != nil {
					b.Fatal(err)
				}
				gs.observe = func(write, work, wait time.Duration) { phases = append(phases, [3]time.Duration{write, work, wait}) }
				cfg.ReplayStore, cfg.RateLimiter = gs, gs
			case "redis-separate":
				rc := srv.client(b)
				rs, err := NewReplayStore(context.Background(), ReplayConfig{Config: Config{Client: rc}})
				if err != nil {
					b.Fatal(err)
				}
				lim, _ := NewLimiter(Config{Client: rc})
				cfg.ReplayStore, cfg.RateLimiter = rs, lim
			}
			as, err := authserver.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			bodies := make([]string, b.N)
			for i := range bodies {
				bodies[i] = url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {c.idjag(b, 4*time.Minute)}}.Encode()
			}
			lat := make([]time.Duration, b.N)
			admin := srv.client(b)
			if err := admin.ConfigResetStat(context.Background()).Err(); err != nil {
				b.Fatal(err)
			}
			cpu0, rcpu0 := processCPU(b), redisCPU(b, admin)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(bodies[i]))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.SetBasicAuth(clSecretID, clSecret)
				w := httptest.NewRecorder()
				start := time.Now()
				as.ServeHTTP(w, r)
				lat[i] = time.Since(start)
				if w.Code != 200 {
					b.Fatalf("grant %d: %d %s", i, w.Code, w.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/grant")
			if store != "memory" {
				b.ReportMetric(redisUsec(b, admin)/float64(b.N), "redis-µs/grant")
				b.ReportMetric(float64((redisCPU(b, admin)-rcpu0).Microseconds())/float64(b.N), "redis-cpu-µs/grant")
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			if len(phases) >= b.N && b.N > 0 {
				phases = phases[len(phases)-b.N:] // the timed grants
				for i, name := range []string{"write", "work", "wait"} {
					d := make([]time.Duration, len(phases))
					for j, p := range phases {
						d[j] = p[i]
					}
					slices.Sort(d)
					b.ReportMetric(float64(d[len(d)/2].Microseconds()), name+"-p50-µs")
				}
			}
		})
	}
}

// processCPU is the CPU time (user + system) this process used so far:
// the benchmark's goroutines, the runtime and the Redis clients.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the CPU time (user + system) redis-server used so far, from
// INFO cpu (µs resolution): its commands, its network I/O and its event
// loop, where redisUsec counts only the commands.
func redisCPU(b *testing.B, c *redis.Client) time.Duration {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	for _, line := range strings.Split(info, "\n") {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_sys" || name == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			sum += f
		}
	}
	return time.Duration(sum * float64(time.Second))
}

// redisUsec is the time Redis spent in commands since the last CONFIG
// RESETSTAT, in µs: the sum of INFO commandstats' usec (scripts include
// the commands they call; those are not counted twice).
func redisUsec(b *testing.B, c *redis.Client) float64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") || strings.HasPrefix(name, "cmdstat_config") || strings.HasPrefix(name, "cmdstat_info") {
			continue
		}
		for _, f := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(f, "usec="); ok {
				u, _ := strconv.ParseFloat(v, 64)
				sum += u
			}
		}
	}
	return sum
}

// BenchmarkRoundTrip is the cost of one Redis round trip on loopback: a
// PING, an EVALSHA of a script that only returns 1 (the floor of any
// script call), one GCRA charge, and the steps of one jwt-bearer grant in
// one GrantStore script (failure check, charge, replay). Each reports
// redis-µs/op, Redis's own time per call (INFO commandstats).
func BenchmarkRoundTrip(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	rc := srv.client(b)
	gs, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: rc}})
	if err != nil {
		b.Fatal(err)
	}
	big := authserver.Limit{PerSecond: 1e6, Burst: 1e6}
	exp := time.Now().Add(time.Hour)
	admin := srv.client(b)
	noop := redis.NewScript("return 1")
	calls := []struct {
		name string
		call func(i int) error
	}{
		{"ping", func(int) error { return rc.Ping(ctx).Err() }},
		{"evalsha-noop", func(int) error { return noop.Run(ctx, rc, nil).Err() }},
		{"charge", func(int) error { _, err := gs.Allow(ctx, "grant|c", big); return err }},
		{"grant-steps", func(i int) error {
			_, err := gs.RunGrantSteps(ctx, []authserver.GrantStep{
				{Kind: authserver.StepCheckFailures, Key: "authfail|c|s", Limit: big, GlobalKey: "authfail-global", GlobalLimit: big},
				{Kind: authserver.StepCharge, Key: "grant|c", Limit: big},
				{Kind: authserver.StepConsume, Key: "idjag|i|" + strconv.Itoa(i), Exp: exp},
			})
			return err
		}},
	}
	n := 0 // distinct jtis across rounds
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			if err := c.call(n); err != nil { // loads the script
				b.Fatal(err)
			}
			if err := admin.ConfigResetStat(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				n++
				if err := c.call(n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(redisUsec(b, admin)/float64(b.N), "redis-µs/op")
		})
	}
}
