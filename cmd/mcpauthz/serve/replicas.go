package serve

import (
	"log/slog"
	"strings"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/config"
)

// asReplicaHints lists what in an authorization server's file with memory
// stores says it runs as one of several replicas: then each replica keeps
// its own replay store and limits. Empty with shared stores.
func asReplicaHints(cfg authserver.Config) []string {
	if cfg.ReplayStore != nil || cfg.RateLimiter != nil {
		return nil
	}
	var hints []string
	// A shared broker.code_key is another hint; authserver.New warns
	// about it store by store.
	if cfg.ClientAddress != nil {
		hints = append(hints, "behind_proxy (a load balancer)")
	}
	return hints
}

// guardReplicaHints is asReplicaHints for a Guard's file with the memory
// session store.
func guardReplicaHints(f *config.File) []string {
	if s := f.Stores.Sessions; s != "" && s != "memory" {
		return nil
	}
	var hints []string
	if f.Policy.Watcher != nil {
		hints = append(hints, "policy.watcher (replicas notified together)")
	}
	if s := f.Policy.Source; s != "" && s != "file" {
		hints = append(hints, "policy.source "+s+" (a policy shared by replicas)")
	}
	return hints
}

// warnReplicas logs, at start, that a file with per-process stores looks
// like one of several replicas: a replica set mixing memory and shared
// stores (one replica's file without its stores: section) would otherwise
// weaken every guarantee silently.
func warnReplicas(log *slog.Logger, name string, hints []string, what string) {
	if len(hints) == 0 {
		return
	}
	log.Warn(name+": stores are per process (memory) but the file suggests several replicas; if more than one replica serves it, "+what+
		"; give every replica the same stores: section (kind redis, the mcpauthz-redis binary), or ignore this for a single replica",
		slog.String("hints", strings.Join(hints, ", ")))
}
