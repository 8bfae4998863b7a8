package postgres

import (
	"errors"
	"fmt"
	"time"

	gormadapter "github.com/casbin/gorm-adapter/v3"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	pgdriver "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Defaults used when a SourceConfig field is zero.
const (
	DefaultLoadTimeout = 5 * time.Second
	DefaultMaxConns    = 4
)

// SourceConfig configures [NewSource].
type SourceConfig struct {
	// DSN is the PostgreSQL connection string (keyword/value or URL form).
	// Set connect_timeout in it to bound connection attempts. REQUIRED.
	DSN string
	// Model is the Casbin model text, the same as casbinauthz.Config.Model.
	// REQUIRED.
	Model string
	// Timeout bounds one policy load (query and transfer); a load that takes
	// longer fails and the last good policy stays. OPTIONAL; default
	// DefaultLoadTimeout.
	Timeout time.Duration
	// MaxConns bounds the open connections of this source. OPTIONAL;
	// default DefaultMaxConns.
	MaxConns int
	// MaxBytes caps the policy text. OPTIONAL; default
	// casbinauthz.DefaultMaxPolicy.
	MaxBytes int
}

// Source is a casbinauthz.Source reading Casbin's casbin_rule table through
// the official gorm-adapter. Writers (an admin tool, a casbin.Enforcer) use
// [Source.Adapter] or their own gorm-adapter on the same table.
type Source struct {
	*casbinauthz.AdapterSource
	adapter *gormadapter.Adapter
	db      *gorm.DB
}

// NewSource opens the database, creates the casbin_rule table when it is
// missing (gorm-adapter's migration) and returns the source. It fails when
// the database cannot be reached.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.DSN == "" {
		return nil, errors.New("postgres: SourceConfig.DSN is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultLoadTimeout
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	db, err := gorm.Open(pgdriver.Open(cfg.DSN), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	sqlDB.SetMaxOpenConns(cfg.MaxConns)
	sqlDB.SetMaxIdleConns(cfg.MaxConns)
	sqlDB.SetConnMaxIdleTime(time.Minute)
	ad, err := gormadapter.NewAdapterByDB(db)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("postgres: gorm-adapter: %w", err)
	}
	as, err := casbinauthz.NewAdapterSource(casbinauthz.AdapterSourceConfig{
		Model: cfg.Model, Adapter: ad, Timeout: cfg.Timeout, MaxBytes: cfg.MaxBytes,
	})
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return &Source{AdapterSource: as, adapter: ad, db: db}, nil
}

// Adapter is the gorm-adapter over the policy table, for writers.
func (s *Source) Adapter() *gormadapter.Adapter { return s.adapter }

// Close closes the database connections.
func (s *Source) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
