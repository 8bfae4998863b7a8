package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// TestConstructorsRefuseNilConfig: every exported constructor and store
// factory of this module returns ErrInvalidConfig, never panics, for a
// zero config, a nil Client and a nil *Config to install into (before,
// GuardSessions and AuthServerStores panicked on a nil config), and a
// MaxPerSubject past authserver.MaxRegistrationMaxPerSubject is refused.
func TestConstructorsRefuseNilConfig(t *testing.T) {
	ctx := context.Background()
	// A client that is never dialled: every case fails before using it.
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rc.Close() })
	opts := map[string]any{"url": "redis://127.0.0.1:1/0"}
	tests := []struct {
		name string
		call func() error
	}{
		{"NewGrantStore zero", func() error { _, err := NewGrantStore(ctx, ReplayConfig{}); return err }},
		{"NewReplayStore zero", func() error { _, err := NewReplayStore(ctx, ReplayConfig{}); return err }},
		{"NewWatcher zero", func() error { _, err := NewWatcher(ctx, Config{}); return err }},
		{"NewSessionBindings zero", func() error { _, err := NewSessionBindings(Config{}); return err }},
		{"NewLimiter zero", func() error { _, err := NewLimiter(Config{}); return err }},
		{"NewRefreshStore zero", func() error { _, err := NewRefreshStore(RefreshConfig{}); return err }},
		{"NewConsentStore zero", func() error { _, err := NewConsentStore(ConsentConfig{}); return err }},
		{"NewClientStore zero", func() error { _, err := NewClientStore(ClientConfig{}); return err }},
		{"NewClientStore MaxPerSubject past the cap", func() error {
			_, err := NewClientStore(ClientConfig{Config: Config{Client: rc}, MaxPerSubject: authserver.MaxRegistrationMaxPerSubject + 1})
			return err
		}},
		{"GuardSessions nil config", func() error { _, err := GuardSessions(ctx, opts, nil); return err }},
		{"GuardSessions nil options", func() error { _, err := GuardSessions(ctx, nil, &core.Config{}); return err }},
		{"AuthServerStores nil config", func() error { _, err := AuthServerStores(ctx, opts, nil); return err }},
		{"AuthServerStores nil options", func() error { _, err := AuthServerStores(ctx, nil, &authserver.Config{}); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				err = tc.call()
			}()
			// The file options' errors name the option, not ErrInvalidConfig.
			if err == nil || !errors.Is(err, ErrInvalidConfig) && !strings.Contains(tc.name, "nil options") {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := NewClientStore(ClientConfig{Config: Config{Client: rc}, MaxPerSubject: authserver.MaxRegistrationMaxPerSubject}); err != nil {
		t.Fatalf("MaxPerSubject at the cap: %v", err)
	}
}
