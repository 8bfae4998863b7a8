package casbinauthz

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
)

// DefaultLoadTimeout bounds one policy load from an [AdapterSource].
const DefaultLoadTimeout = 10 * time.Second

// AdapterSource is a [Source] over any Casbin [persist.Adapter] (a database
// through gorm-adapter, a file adapter, ...). Each Load asks the adapter
// for the whole policy (LoadPolicyCtx when the adapter implements
// [persist.ContextAdapter]) into a fresh model and writes it out as policy
// text in a canonical form: sections p then g, policy types sorted, rules
// in the adapter's order, fields CSV-quoted where needed. The text then goes
// through the same strict validation, index compilation and digest as a
// file, so replicas reading the same rows report the same digest, and a
// broken policy in the store (unknown policy type, wrong field count,
// invalid glob, empty) keeps the last good one.
//
// AdapterSource never writes through the adapter. It is safe for
// concurrent use when the adapter is (gorm-adapter is).
type AdapterSource struct {
	model    string
	adapter  persist.Adapter
	timeout  time.Duration
	maxBytes int
}

// AdapterSourceConfig configures [NewAdapterSource].
type AdapterSourceConfig struct {
	// Model is the Casbin model text; it must be the authorizer's
	// Config.Model. REQUIRED.
	Model string
	// Adapter loads the policy. REQUIRED.
	Adapter persist.Adapter
	// Timeout bounds one load (the context passed to Load is honoured
	// too). OPTIONAL; default DefaultLoadTimeout.
	Timeout time.Duration
	// MaxBytes caps the policy text. OPTIONAL; default DefaultMaxPolicy.
	MaxBytes int
}

// NewAdapterSource validates cfg and returns the source.
func NewAdapterSource(cfg AdapterSourceConfig) (*AdapterSource, error) {
	if cfg.Adapter == nil {
		return nil, errors.New("casbinauthz: AdapterSourceConfig.Adapter is required")
	}
	if _, err := parseModel(cfg.Model); err != nil {
		return nil, err
	}
	s := &AdapterSource{model: cfg.Model, adapter: cfg.Adapter, timeout: cfg.Timeout, maxBytes: cfg.MaxBytes}
	if s.timeout <= 0 {
		s.timeout = DefaultLoadTimeout
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxPolicy
	}
	return s, nil
}

// ErrStore wraps every failure of the policy store (adapter) itself, as
// opposed to a policy that loads but is invalid (ErrPolicy).
var ErrStore = errors.New("casbinauthz: policy store")

// Load reads the whole policy through the adapter and returns it as
// canonical policy text.
func (s *AdapterSource) Load(ctx context.Context) ([]byte, error) {
	m, err := model.NewModelFromString(s.model)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModel, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.loadInto(ctx, m); err != nil {
		return nil, err
	}
	return canonicalPolicy(m, s.maxBytes)
}

func (s *AdapterSource) loadInto(ctx context.Context, m model.Model) error {
	var err error
	if ca, ok := s.adapter.(persist.ContextAdapter); ok {
		err = ca.LoadPolicyCtx(ctx, m)
	} else {
		// The adapter cannot be cancelled: run it aside and stop waiting
		// at the deadline (its result is then dropped).
		done := make(chan error, 1)
		go func() { done <- s.adapter.LoadPolicy(m) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil {
		err = ctx.Err() // a late success after the deadline is not trusted
	}
	if err != nil {
		return fmt.Errorf("%w: loading the policy: %w", ErrStore, err)
	}
	return nil
}

// canonicalPolicy writes the p and g rules of m as policy text.
func canonicalPolicy(m model.Model, maxBytes int) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, sec := range []string{"p", "g"} {
		keys := make([]string, 0, len(m[sec]))
		for k := range m[sec] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, rule := range m[sec][k].Policy {
				for _, f := range rule {
					if strings.ContainsAny(f, "\r\n") {
						return nil, fmt.Errorf("%w: a %s rule has a field with a line break", ErrPolicy, k)
					}
				}
				if err := w.Write(append([]string{k}, rule...)); err != nil {
					return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
				}
				if buf.Len() > maxBytes {
					return nil, fmt.Errorf("%w: the policy exceeds %d bytes", ErrPolicy, maxBytes)
				}
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	return buf.Bytes(), nil
}
