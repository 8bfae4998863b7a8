package casbinauthz

import (
	"context"
	"encoding/hex"
	"sync/atomic"

	"github.com/casbin/casbin/v2/persist"
)

// Digest is the SHA-256 (hex) of the live policy text, "" before the first
// load or with a caller-supplied Enforcer. Replicas that loaded the same
// policy report the same digest; with an [AdapterSource] the text is
// canonical, so the same rows give the same digest on every replica.
func (a *Authorizer) Digest() string {
	s := a.cur.Load()
	if s == nil || a.comp == nil {
		return ""
	}
	return hex.EncodeToString(s.hash[:])
}

// SetWatcher makes w trigger reloads: when the watcher reports a change
// (another replica called Update after writing the policy store), the
// Authorizer reloads from its Source, with the same validation as Reload:
// a broken policy in the store keeps the last good one. Notifications that
// arrive during a reload are coalesced into one more reload. Reload
// failures are logged and counted (Stats) as for Watch. SetWatcher reloads
// once right away, for changes written between the load and the
// subscription.
//
// The watcher only speeds propagation up: a notification lost while the
// store or the watcher's connection was down is caught by [Authorizer.Watch]
// polling the Source (run both; the poll can be slow, e.g. 30 s). Close the
// watcher to stop notifications.
func (a *Authorizer) SetWatcher(w persist.Watcher) error {
	if a.comp == nil {
		return ErrNotReloadable
	}
	var pending atomic.Bool
	reload := func(string) {
		if pending.Swap(true) {
			return // a reload is already queued and will see this change
		}
		go func() {
			a.reloadMu.Lock()
			defer a.reloadMu.Unlock()
			pending.Store(false)
			_ = a.reloadLocked(context.Background()) // bounded by the Source; logged and counted
		}()
	}
	if err := w.SetUpdateCallback(reload); err != nil {
		return err
	}
	// A change written after the policy was loaded but before the watcher
	// was subscribed sent no notification this replica saw: reload once.
	reload("subscribed")
	return nil
}
