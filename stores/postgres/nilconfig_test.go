package postgres_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/stores/postgres"
)

// TestConstructorsRefuseZeroConfig: the constructors return an error,
// never panic, for a zero config (no PostgreSQL needed).
func TestConstructorsRefuseZeroConfig(t *testing.T) {
	for name, call := range map[string]func() error{
		"NewSource":  func() error { _, err := postgres.NewSource(postgres.SourceConfig{}); return err },
		"NewWatcher": func() error { _, err := postgres.NewWatcher(postgres.WatcherConfig{}); return err },
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				err = call()
			}()
			if err == nil || strings.HasPrefix(err.Error(), "panic") {
				t.Fatalf("got %v", err)
			}
		})
	}
}
