package casbinauthz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrReload wraps every failed load; the previous policy stays in force.
var ErrReload = errors.New("casbinauthz: policy load failed")

// ErrNotReloadable is returned by Reload and Watch for an Authorizer built
// around a caller-supplied Enforcer.
var ErrNotReloadable = errors.New("casbinauthz: authorizer has no policy source")

// Reload loads the Source, and when its content changed builds a new
// enforcer, validates it (strict parse, globs, non-empty, canaries) and
// swaps it in atomically. On any failure the live policy is kept, the error
// is logged once per distinct failure, Stats.ReloadErrors is incremented and
// an error wrapping ErrReload is returned. Reloads are serialized.
func (a *Authorizer) Reload(ctx context.Context) error {
	if a.comp == nil {
		return ErrNotReloadable
	}
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	return a.reloadLocked(ctx)
}

func (a *Authorizer) reloadLocked(ctx context.Context) error {
	text, err := a.src.Load(ctx)
	if err != nil {
		return a.failLocked(err)
	}
	return a.applyLocked(text, sha256.Sum256(text), a.lg.now())
}

// applyLocked compiles, validates and swaps in text (whose digest is h)
// from the Source unless it is the live policy; loaded is when the Source
// returned it.
func (a *Authorizer) applyLocked(text []byte, h [32]byte, loaded time.Time) error {
	if cur := a.cur.Load(); cur != nil && bytes.Equal(cur.hash[:], h[:]) {
		a.lastErr.Store(nil)
		a.confirmedLocked(text, h, loaded)
		// The last-good expiry (lock-free) may have dropped cur since it
		// was loaded above; the Source has just confirmed it.
		a.cur.CompareAndSwap(nil, cur)
		return nil
	}
	s, err := a.buildLocked(text, h)
	if err != nil {
		return a.failLocked(err)
	}
	a.swapLocked(s)
	a.confirmedLocked(text, h, loaded)
	return nil
}

// buildLocked compiles and validates text (digest h), canaries included.
func (a *Authorizer) buildLocked(text []byte, h [32]byte) (*snapshot, error) {
	s, err := a.comp.compile(text)
	if err != nil {
		return nil, err
	}
	s.hash = h
	s.digestHex = hex.EncodeToString(h[:])
	if err := a.checkCanaries(s); err != nil {
		return nil, err
	}
	return s, nil
}

// swapLocked makes s the live policy.
func (a *Authorizer) swapLocked(s *snapshot) {
	s.version = a.version.Add(1)
	s.loadedAt = time.Now()
	a.cur.Store(s)
	a.lastErr.Store(nil)
	a.log.Info("casbinauthz: policy loaded", "version", s.version, "digest", s.digest(), "rules", s.rules, "indexed", s.idx != nil)
	a.tel.loaded(context.Background(), s.version)
	if a.onReload != nil {
		a.onReload(a.Stats())
	}
}

func (a *Authorizer) failLocked(err error) error {
	a.reloadErrs.Add(1)
	a.tel.failed()
	msg := err.Error()
	if prev := a.lastErr.Load(); prev == nil || *prev != msg {
		attrs := []any{"error", msg, "reload_errors", a.reloadErrs.Load()}
		if cur := a.cur.Load(); cur != nil {
			attrs = append(attrs, "kept_version", cur.version)
			a.log.Error("casbinauthz: policy reload failed; keeping the last good policy", attrs...)
		} else {
			// The first load: there is no good policy to keep.
			a.log.Error("casbinauthz: policy load failed; no policy loaded", attrs...)
		}
	}
	a.lastErr.Store(&msg)
	return fmt.Errorf("%w: %w", ErrReload, err)
}

func (a *Authorizer) checkCanaries(s *snapshot) error {
	for i, c := range a.canaries {
		if c.Principal == nil {
			return fmt.Errorf("%w: canary %d has no principal", ErrPolicy, i)
		}
		tmp := &Authorizer{subjects: a.subjects, defaultSubjects: a.defaultSubjects, issuers: a.issuers, log: a.log}
		tmp.cur.Store(s)
		d, err := tmp.Authorize(context.Background(), c.Principal, c.Permission)
		if err != nil {
			return fmt.Errorf("%w: canary %d: %v", ErrPolicy, i, err)
		}
		if d.Allow != c.Allow {
			return fmt.Errorf("%w: canary %d (%s %s %s): got allow=%t, want %t",
				ErrPolicy, i, c.Principal.SubjectName(), c.Permission.Action, c.Permission.Object(), d.Allow, c.Allow)
		}
	}
	return nil
}

// Watch polls the Source every Config.PollInterval until ctx is done; it
// returns ctx.Err(). A changed policy is loaded only after it has been
// stable (same Stamper stamp, same content digest) for Config.SettleWindow,
// so a file that is still being written is not loaded; it must then pass
// validation (and its seal, see FileSource.RequireSeal). Sources
// implementing [Stamper] are only re-read when their stamp changes, while a
// change is settling, and every tenth poll anyway. Failed reloads are
// logged and counted and never stop the loop.
func (a *Authorizer) Watch(ctx context.Context) error {
	if a.comp == nil {
		return ErrNotReloadable
	}
	t := time.NewTicker(a.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			a.pollOnce(ctx)
		}
	}
}

// pendingChange is a policy seen changed but not yet stable for the
// settle window. since is when the read that first saw it returned.
type pendingChange struct {
	stamp string
	hash  [32]byte
	since time.Time
}

func (a *Authorizer) pollOnce(ctx context.Context) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	// The settle window is counted up to the instant before this poll's
	// read, not to when the read returned: a watcher descheduled after
	// reading must not count its own pause as the file's stability.
	begin := time.Now()
	a.polls++
	stamp := ""
	if st, ok := a.src.(Stamper); ok {
		s, err := st.Stamp(ctx)
		if err == nil && s == a.lastStamp && a.pending == nil && a.polls%10 != 0 {
			return
		}
		if err == nil {
			stamp = s
		}
	}
	text, err := a.src.Load(ctx)
	if err != nil {
		// Retried when the stamp changes (or on the tenth poll).
		a.pending, a.lastStamp = nil, stamp
		_ = a.failLocked(err) // logged and counted
		return
	}
	h := sha256.Sum256(text)
	now, loaded := time.Now(), a.lg.now()
	if cur := a.cur.Load(); cur != nil && cur.hash == h {
		a.pending, a.lastStamp = nil, stamp
		a.lastErr.Store(nil)
		a.confirmedLocked(text, h, loaded)
		a.cur.CompareAndSwap(nil, cur) // as in applyLocked
		return
	}
	if p := a.pending; p == nil || p.stamp != stamp || p.hash != h {
		a.pending = &pendingChange{stamp: stamp, hash: h, since: now}
		a.settling.Add(1)
		return
	}
	if begin.Sub(a.pending.since) < a.settle {
		return
	}
	a.pending, a.lastStamp = nil, stamp
	_ = a.applyLocked(text, h, loaded) // logged and counted
}
