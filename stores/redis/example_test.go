package redisstore_test

import (
	"context"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
)

// Wiring an authorization server replica to the shared replay store and
// rate limiter. Every replica gets the same Redis, prefix and signing keys.
func Example() {
	opts, err := redisstore.ClientOptions("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	cfg := redisstore.Config{Client: rc, Prefix: "{prod-mcp}:"}
	// One GrantStore is both the replay store and the rate limiter, so a
	// token request costs one Redis round trip, made while the token is
	// signed.
	store, err := redisstore.NewGrantStore(context.Background(), redisstore.ReplayConfig{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	asCfg := authserver.Config{
		// Issuer, Resources, Clients, TrustedIdPs, SigningKeys: as for one
		// instance, identical on every replica.
		ReplayStore: store,
		RateLimiter: store,
	}
	_ = asCfg
}
