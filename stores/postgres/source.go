package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/casbin/casbin/v2/model"
	gormadapter "github.com/casbin/gorm-adapter/v3"
	"github.com/jackc/pgx/v5/pgconn"
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
	adapter  *gormadapter.Adapter
	db       *gorm.DB
	timeout  time.Duration
	maxConns int

	tableMu sync.Mutex
	table   atomic.Bool // the casbin_rule table is known to exist
}

// NewSource returns the source. It does not need the database: it tries
// once, within SourceConfig.Timeout (at least DefaultLoadTimeout), to create the casbin_rule table when
// it is missing (gorm-adapter's migration), and when PostgreSQL cannot be
// reached that is retried by every Load until it succeeds. A replica can
// thus start while PostgreSQL is down, from casbinauthz
// Config.LastGoodPath, and converge when it returns.
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
	db, err := gorm.Open(pgdriver.Open(cfg.DSN), &gorm.Config{Logger: logger.Discard, DisableAutomaticPing: true})
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
	// The adapter itself never migrates (that would need the database
	// now); ensureTable does, with a deadline.
	noMigrate := db.Session(&gorm.Session{})
	gormadapter.TurnOffAutoMigrate(noMigrate)
	ad, err := gormadapter.NewAdapterByDB(noMigrate)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("postgres: gorm-adapter: %w", err)
	}
	s := &Source{adapter: ad, db: db, timeout: cfg.Timeout, maxConns: cfg.MaxConns}
	as, err := casbinauthz.NewAdapterSource(casbinauthz.AdapterSourceConfig{
		Model: cfg.Model, Adapter: tableAdapter{Adapter: ad, s: s}, Timeout: cfg.Timeout, MaxBytes: cfg.MaxBytes,
	})
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	s.AdapterSource = as
	// Bounded, unlike gorm-adapter's own migration; a refused connection
	// fails at once.
	ctx, cancel := context.WithTimeout(context.Background(), max(cfg.Timeout, DefaultLoadTimeout))
	defer cancel()
	_ = s.ensureTable(ctx) // retried by Load
	return s, nil
}

// ensureTable runs gorm-adapter's migration (create the table and its
// unique index when missing) once it succeeds.
func (s *Source) ensureTable(ctx context.Context) error {
	if s.table.Load() {
		return nil
	}
	s.tableMu.Lock()
	defer s.tableMu.Unlock()
	if s.table.Load() {
		return nil
	}
	if _, err := gormadapter.NewAdapterByDB(s.db.WithContext(ctx)); err != nil {
		return fmt.Errorf("postgres: creating the policy table: %w", err)
	}
	s.table.Store(true)
	return nil
}

// tableAdapter loads through the gorm-adapter once the table exists.
type tableAdapter struct {
	*gormadapter.Adapter
	s *Source
}

// LoadPolicyCtx loads; while the table is not known to exist, a failed
// load runs the migration and, when it succeeds, loads again. (A role that
// may read the table but not create it loads without migrating.)
//
// After PostgreSQL restarted, each pooled connection is dead and fails its
// first query (SQLSTATE 57P01, EOF, reset); pgx then marks it closed and
// database/sql drops it. A load that fails that way is retried, at most
// once per pooled connection and within ctx, so the first reload after a
// restart (the one the watcher asks for when it listens again) reads the
// new server instead of failing and keeping the old policy until the next
// change.
func (t tableAdapter) LoadPolicyCtx(ctx context.Context, m model.Model) error {
	err := t.load(ctx, m)
	for i := 0; err != nil && i < t.s.maxConns && ctx.Err() == nil && connLost(err); i++ {
		err = t.load(ctx, m)
	}
	return err
}

// connLost reports whether err means the connection died under the query
// (the server shut down or restarted, the socket was reset), so that
// another connection may succeed.
func connLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "57P") // admin/crash shutdown, cannot connect now
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || pgconn.SafeToRetry(err) ||
		(errors.As(err, &ne) && !ne.Timeout())
}

// load is one load attempt.
func (t tableAdapter) load(ctx context.Context, m model.Model) error {
	err := t.Adapter.LoadPolicyCtx(ctx, m)
	if err == nil {
		t.s.table.Store(true)
		return nil
	}
	if t.s.table.Load() {
		return err
	}
	if merr := t.s.ensureTable(ctx); merr != nil {
		return errors.Join(err, merr)
	}
	// gorm-adapter reads every row before it adds any to m, so a failed
	// load added nothing.
	return t.Adapter.LoadPolicyCtx(ctx, m)
}

// LoadPolicy is LoadPolicyCtx within the source's timeout.
func (t tableAdapter) LoadPolicy(m model.Model) error {
	ctx, cancel := context.WithTimeout(context.Background(), t.s.timeout)
	defer cancel()
	return t.LoadPolicyCtx(ctx, m)
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
