package redisstore_test

import (
	"context"
	"log"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
)

// Wiring the SSO broker and dynamic registration of an authorization
// server replica, so that any replica can answer any step of a login:
// codes and logins in progress are sealed under the shared code key, and
// single use, refresh families, consents and registered clients are in
// Redis. Every replica gets the same Redis, prefix, code key and signing
// keys.
func Example_broker() {
	opts, err := redisstore.ClientOptions("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	cfg := redisstore.Config{Client: rc, Prefix: "{prod-mcp}:"}
	grants, err := redisstore.NewGrantStore(context.Background(), redisstore.ReplayConfig{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	refresh, err := redisstore.NewRefreshStore(redisstore.RefreshConfig{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	consents, err := redisstore.NewConsentStore(redisstore.ConsentConfig{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	clients, err := redisstore.NewClientStore(redisstore.ClientConfig{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	codeKey, err := os.ReadFile("/run/secrets/mcp-code.key") // 32 bytes, the same on every replica
	if err != nil {
		log.Fatal(err)
	}
	asCfg := authserver.Config{
		// Issuer, Resources, SigningKeys: identical on every replica.
		ReplayStore: grants,
		RateLimiter: grants,
		Broker: &authserver.Broker{
			// Upstream, Access: identical on every replica.
			CodeKey:      codeKey,
			RefreshStore: refresh,
			ConsentStore: consents,
		},
		Registration: &authserver.Registration{LoopbackRedirects: true, Store: clients},
	}
	_ = asCfg
}
