package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrNotReady is wrapped by every error of [Guard.Ready].
var ErrNotReady = errors.New("mcpauthz: not ready")

// ReadinessChecker is implemented by components that can tell whether they
// are able to serve: a verifier whose key sets are loaded, an Authorizer
// with a policy loaded (and sealed, where sealing is on), a store that
// answers. Ready must honour ctx and must not be expensive: probes call it
// every few seconds. The Guard asks its Verifier, Mapper and Authorizer
// when they implement it, and every Config.ReadyChecks entry.
type ReadinessChecker interface {
	Ready(ctx context.Context) error
}

// ReadyFunc adapts a function to ReadinessChecker.
type ReadyFunc func(ctx context.Context) error

// Ready calls f.
func (f ReadyFunc) Ready(ctx context.Context) error { return f(ctx) }

// Ready reports whether the Guard can decide requests: every issuer's keys
// are loaded or obtainable now (Verifier), a policy is loaded (Authorizer),
// the session store answers (Config.Sessions), and every store in
// Config.ReadyChecks answers. Components that do not
// implement ReadinessChecker count as ready. The error wraps ErrNotReady
// and names each failing component; it may contain URLs, never a token.
func (g *Guard) Ready(ctx context.Context) error {
	var errs []error
	check := func(name string, c any) {
		if rc, ok := c.(ReadinessChecker); ok {
			if err := rc.Ready(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	check("verifier", g.verifier)
	check("mapper", g.mapper)
	check("authorizer", g.authorizer)
	if g.sessions != nil {
		check("session store", g.sessions.store)
	}
	for i, c := range g.readyChecks {
		check(fmt.Sprintf("check %d", i), c)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrNotReady, errors.Join(errs...))
	}
	return nil
}

// DefaultReadyTimeout bounds one readiness probe answered by ReadyHandler.
const DefaultReadyTimeout = 5 * time.Second

// ReadyHandler answers Kubernetes-style readiness probes for c (a *Guard,
// an *authserver.Server, or several joined with ReadyFunc): 200 with
// {"status":"ready"} when c.Ready returns nil within timeout (0 means
// DefaultReadyTimeout), otherwise 503 with {"status":"not ready","error":
// "..."} (the error text truncated to MaxLogReason bytes). It answers GET
// and HEAD only. Mount it on an internal listener: the error names
// components and URLs.
func ReadyHandler(c ReadinessChecker, timeout time.Duration) http.Handler {
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !probeMethod(w, r) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := c.Ready(ctx); err != nil {
			writeProbe(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": TruncateField(err.Error(), MaxLogReason)})
			return
		}
		writeProbe(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// LiveHandler answers liveness probes: 200 {"status":"alive"} to GET and
// HEAD while the process serves HTTP. It checks no dependency, so an IdP
// outage makes a pod unready, never restarted.
func LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probeMethod(w, r) {
			writeProbe(w, http.StatusOK, map[string]string{"status": "alive"})
		}
	})
}

func probeMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func writeProbe(w http.ResponseWriter, status int, body map[string]string) {
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
